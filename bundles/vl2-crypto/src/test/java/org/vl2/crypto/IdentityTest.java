package org.vl2.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vl2.crypto.Fixtures.hex;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityTest {

    private static final byte[] ALICE_PRIVATE = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");

    @TempDir
    Path tmp;

    @Test
    void storeAndLoadRoundTripWithOwnerOnlyPermissions() throws IOException, CryptoException {
        Identity id = Identity.generate();
        Path file = tmp.resolve("a/b/identity");
        id.store(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("a"))));

        Identity loaded = Identity.load(file);
        assertArrayEquals(id.publicKey(), loaded.publicKey());
        assertEquals(id.memberId(), loaded.memberId());
        assertEquals(id.fingerprint(), loaded.fingerprint());
        // the same private key: the same shared secret with anyone
        Identity other = Identity.generate();
        assertArrayEquals(X25519.dh(id.privateKey(), other.publicKey(), 0),
                X25519.dh(loaded.privateKey(), other.publicKey(), 0));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void storeLeavesExistingDirectoriesAlone() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Identity.generate().store(tmp.resolve("identity"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp)));
    }

    @Test
    void storeNeverOverwritesAnIdentity() throws IOException {
        Path file = tmp.resolve("identity");
        Identity first = Identity.generate();
        first.store(file);
        assertThrows(FileAlreadyExistsException.class, () -> Identity.generate().store(file));
        assertEquals(first.fingerprint(), Identity.load(file).fingerprint());
    }

    @Test
    void loadRefusesGroupOrWorldAccessibleKeyNamingFileAndFix() throws IOException {
        Path file = tmp.resolve("identity");
        Identity.generate().store(file);
        for (String mode : new String[] {"rw-r--r--", "rw-r-----", "rw----r--", "rw--w----", "rw-----w-",
                "rw---x---"}) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
            IOException e = assertThrows(IOException.class, () -> Identity.load(file), mode);
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("chmod 600 " + file), e.getMessage());
            assertTrue(e.getMessage().contains(mode), e.getMessage());
        }
        for (String mode : new String[] {"r--------", "rwx------"}) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
            Identity.load(file); // whatever its owner may do is the owner's business
        }
    }

    @Test
    void loadOrCreateCreatesOnceThenLoads() throws IOException {
        Path file = tmp.resolve("data/vl2/identity");
        Identity created = Identity.loadOrCreate(file);
        assertTrue(Files.exists(file));
        assertEquals(created.fingerprint(), Identity.loadOrCreate(file).fingerprint());
        assertThrows(NoSuchFileException.class, () -> Identity.load(tmp.resolve("missing")));
    }

    @Test
    void loadsAPrivateKeyAloneInBase64OrHex() throws IOException {
        Identity alice = Identity.fromPrivateKey(ALICE_PRIVATE);
        Path b64 = write("private-key = " + Base64.getEncoder().encodeToString(ALICE_PRIVATE) + "\n");
        assertEquals(alice.fingerprint(), Identity.load(b64).fingerprint());
        Path hexFile = write("# comment\n\nprivate-key=" + hex(ALICE_PRIVATE) + "\r\npublic-key = "
                + alice.fingerprint() + "\n");
        assertEquals(alice.fingerprint(), Identity.load(hexFile).fingerprint());
    }

    @Test
    void loadRefusesCorruptFilesWithTheReason() throws IOException {
        String good = Base64.getEncoder().encodeToString(ALICE_PRIVATE);
        String[][] cases = {
                {"", "no private-key"},
                {"private-key = abc\n", "not 32 bytes"},
                {"private-key = " + good + "\nprivate-key = " + good + "\n", "a second private-key"},
                {"secret = " + good + "\n", "expected 'private-key"},
                {"private-key = " + good + "\npublic-key = " + Identity.generate().fingerprint() + "\n",
                        "does not belong"},
                {"x".repeat(5000), "longer than"},
        };
        for (String[] c : cases) {
            Path file = write(c[0]);
            IOException e = assertThrows(IOException.class, () -> Identity.load(file), c[1]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void memberIdIsTheFirst8BytesOfSha256OfThePublicKey() {
        // sha256(8520f009...4e6a) = 300c9c9603b92a4b... (computed with sha256sum)
        Identity alice = Identity.fromPrivateKey(ALICE_PRIVATE);
        assertEquals(0x300c9c9603b92a4bL, alice.memberId());
        assertEquals("300c9c9603b92a4b", Identity.formatMemberId(alice.memberId()));
        assertEquals("000000000000001f", Identity.formatMemberId(0x1f), "16 digits, zeros in front");
        assertEquals("ffffffffffffffff", Identity.formatMemberId(-1), "unsigned");
        assertEquals(alice.memberId(), Identity.memberId(alice.publicKey()));
        assertEquals(alice.memberId(), Identity.fromPrivateKey(ALICE_PRIVATE).memberId());
        assertNotEquals(alice.memberId(), Identity.generate().memberId());
    }

    @Test
    void fingerprintIsBase64OfThePublicKeyAndParsesBack() {
        Identity alice = Identity.fromPrivateKey(ALICE_PRIVATE);
        assertEquals("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", alice.fingerprint());
        assertArrayEquals(alice.publicKey(), Identity.parsePublicKey(alice.fingerprint()));
        assertArrayEquals(alice.publicKey(), Identity.parsePublicKey("  " + hex(alice.publicKey()) + "\n"));
        assertArrayEquals(alice.publicKey(), Identity.parsePublicKey(hex(alice.publicKey()).toUpperCase()));
        assertTrue(alice.toString().contains(alice.fingerprint()));
        assertTrue(!alice.toString().contains(Base64.getEncoder().encodeToString(ALICE_PRIVATE)));
        for (String bad : new String[] {null, "", "abc", alice.fingerprint().substring(1),
                "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm!=", hex(alice.publicKey()).replace('8', 'g'),
                Base64.getEncoder().encodeToString(new byte[33]).substring(0, 44)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Identity.parsePublicKey(bad),
                    String.valueOf(bad));
            assertTrue(e.getMessage().contains("44 characters of base64"), e.getMessage());
        }
    }

    private Path write(String text) throws IOException {
        Path file = Files.createTempFile(tmp, "identity", "");
        Files.writeString(file, text, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }
}
