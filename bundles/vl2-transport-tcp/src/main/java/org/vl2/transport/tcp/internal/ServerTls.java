package org.vl2.transport.tcp.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

import org.vl2.netio.stream.StreamEndpoints;

/**
 * The switch's TLS 1.3 server side: the certificate and key from PEM files, or a self-signed pair generated at first
 * start and kept in the instance's data directory (so agents and operators see the same certificate across
 * restarts). Every problem is one {@link IllegalArgumentException} whose message says what to fix.
 */
final class ServerTls {

    static final String CERTIFICATE_FILE = "tcp-tls-certificate.pem";
    static final String KEY_FILE = "tcp-tls-key.pem";
    /** Validity of a generated certificate: nobody checks it, so long enough never to expire in a switch's life. */
    static final Duration VALIDITY = Duration.ofDays(20 * 365);

    private final SSLContext context;
    private final String description;

    private ServerTls(SSLContext context, String description) {
        this.context = context;
        this.description = description;
    }

    /** What the start line says: where the certificate comes from and its SHA-256 fingerprint. */
    String description() {
        return description;
    }

    /** A server-side engine, TLS 1.3 only, with the stream's cipher suite order. */
    SSLEngine newEngine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        StreamEndpoints.configure(engine); // TLS 1.3, AES-128-GCM preferred (see there why)
        return engine;
    }

    /**
     * From the configured files, or (both empty) the generated pair in {@code dataDirectory}, generated now if it is
     * not there yet.
     */
    static ServerTls load(String certificateFile, String keyFile, Path dataDirectory, String pid) {
        String cert = certificateFile == null ? "" : certificateFile.trim();
        String key = keyFile == null ? "" : keyFile.trim();
        if (cert.isEmpty() != key.isEmpty()) {
            throw new IllegalArgumentException("Invalid configuration " + pid + ": tls.certificate and tls.key go "
                    + "together (set both, or neither for a generated self-signed certificate)");
        }
        Path certPath;
        Path keyPath;
        String origin;
        if (cert.isEmpty()) {
            certPath = dataDirectory.resolve(CERTIFICATE_FILE);
            keyPath = dataDirectory.resolve(KEY_FILE);
            origin = Files.exists(certPath) && Files.exists(keyPath) ? "self-signed, " + certPath
                    : generate(certPath, keyPath);
        } else {
            try {
                certPath = Path.of(cert);
                keyPath = Path.of(key);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("Invalid configuration " + pid + ": tls.certificate=" + cert
                        + ", tls.key=" + key + " (" + e.getMessage() + ")");
            }
            origin = certPath.toString();
        }
        X509Certificate[] chain = readCertificates(certPath, pid);
        PrivateKey privateKey = readKey(keyPath, chain[0], pid);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0];
            store.setKeyEntry("vl2-switch", privateKey, password, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(kmf.getKeyManagers(), null, null);
            return new ServerTls(context, origin + ", SHA-256 " + fingerprint(chain[0]));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("TLS cannot use the certificate " + certPath + " and key " + keyPath
                    + ": " + e.getMessage());
        }
    }

    /** Generates a key pair and its self-signed certificate into the two files (the key readable by the owner only). */
    private static String generate(Path certPath, Path keyPath) {
        try {
            Files.createDirectories(certPath.getParent());
            KeyPair keys = SelfSignedCertificate.newKeyPair();
            Instant now = Instant.now();
            X509Certificate c = SelfSignedCertificate.create(keys, "vl2 switch", now.minus(Duration.ofDays(1)),
                    now.plus(VALIDITY));
            Path tmpKey = keyPath.resolveSibling(keyPath.getFileName() + ".tmp");
            Files.deleteIfExists(tmpKey);
            try {
                Files.createFile(tmpKey, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(tmpKey);
            }
            Files.writeString(tmpKey, pem("PRIVATE KEY", keys.getPrivate().getEncoded()), StandardCharsets.US_ASCII,
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmpKey, keyPath, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(certPath, pem("CERTIFICATE", c.getEncoded()), StandardCharsets.US_ASCII);
            return "self-signed, generated now into " + certPath;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot generate the TLS certificate " + certPath + ": " + e);
        }
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static X509Certificate[] readCertificates(Path file, String pid) {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (all.isEmpty()) {
                throw new IllegalArgumentException("TLS certificate file " + file + " holds no certificate (PEM, "
                        + "'BEGIN CERTIFICATE'); tls.certificate in " + pid);
            }
            return all.toArray(new X509Certificate[0]);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS certificate file " + file + ": " + e
                    + " (tls.certificate in " + pid + ")");
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS certificate file " + file + " is not a PEM certificate: "
                    + e.getMessage() + " (tls.certificate in " + pid + ")");
        }
    }

    /** The PKCS#8 key of {@code file}, of the certificate's key algorithm, checked to belong to the certificate. */
    private static PrivateKey readKey(Path file, X509Certificate cert, String pid) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the TLS key file " + file + ": " + e + " (tls.key in "
                    + pid + ")");
        }
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("TLS key file " + file + " has no 'BEGIN PRIVATE KEY' block (PKCS#8; "
                    + "convert with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8); tls.key in " + pid);
        }
        String b64 = text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end).replaceAll("\\s", "");
        String algorithm = cert.getPublicKey().getAlgorithm();
        try {
            PrivateKey key = KeyFactory.getInstance(algorithm)
                    .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
            String sig = switch (algorithm) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                default -> algorithm;
            };
            byte[] probe = "vl2".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(sig);
            s.initSign(key);
            s.update(probe);
            byte[] signature = s.sign();
            s.initVerify(cert.getPublicKey());
            s.update(probe);
            if (!s.verify(signature)) {
                throw new IllegalArgumentException("TLS key " + file + " does not belong to the certificate "
                        + "(tls.key and tls.certificate in " + pid + ")");
            }
            return key;
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("TLS key")) {
                throw e;
            }
            throw new IllegalArgumentException("TLS key file " + file + " is not valid base64 PKCS#8: "
                    + e.getMessage() + " (tls.key in " + pid + ")");
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS key file " + file + " is not a " + algorithm + " private key "
                    + "matching the certificate: " + e.getMessage() + " (tls.key in " + pid + ")");
        }
    }

    static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.ofDelimiter(":").formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (GeneralSecurityException e) {
            return "?";
        }
    }
}
