package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.karaf.shell.support.CommandException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vl2.api.MemberInfo;
import org.vl2.api.NetworkInfo;
import org.vl2.api.PortId;
import org.vl2.api.test.FakeSwitchAdminService;
import org.vl2.api.test.FakeSwitchService;

class MembersCommandTest {

    private final FakeSwitchService switchService = new FakeSwitchService();
    private final FakeSwitchAdminService switchAdmin = new FakeSwitchAdminService(switchService);
    private final MembersCommand command = new MembersCommand();
    private final Out out = new Out();

    @BeforeEach
    void setUp() {
        switchService.networks.add(new NetworkInfo(0xb2, "secret", 1400, "learning", null, null, false, 1, List.of()));
        switchService.members.add(new MemberInfo(0xb2, "300c9c9603b92a4b", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                true, PortId.of(3), "10.2.0.1", "h1", true, "AES-256-GCM"));
        switchService.members.add(new MemberInfo(0xb2, "00000000000000bb", null, true, null, null, null, false));
        command.switchService = switchService;
        command.switchAdmin = switchAdmin;
        switchAdmin.authorized.add(0xb2 + " 00000000000000bb");
    }

    @Test
    void listsMembersWithTheSwitchKey() throws Exception {
        command.execute(out.stream);
        List<String> lines = out.lines();
        assertEquals("Switch public key: hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=", lines.get(0));
        assertEquals(List.of("Network", "Member", "Public key", "Authorized", "Port", "Address", "Name", "Encryption"),
                Out.tableCells(lines.get(1)));
        assertEquals(List.of("00000000000000b2", "300c9c9603b92a4b", "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=",
                "yes", "3", "10.2.0.1", "h1", "AES-256-GCM"), Out.tableCells(lines.get(3)));
        assertEquals(List.of("00000000000000b2", "00000000000000bb", "-", "yes", "-", "-", "-", "-"),
                Out.tableCells(lines.get(4)));
    }

    @Test
    void authorizesAndDeauthorizes() throws Exception {
        command.network = "b2";
        command.authorize = "00000000000000cc";
        command.execute(out.stream);
        command.authorize = null;
        command.deauthorize = "00000000000000bb";
        command.execute(out.stream);
        command.deauthorize = "00000000000000dd";
        command.execute(out.stream);
        assertEquals(List.of("+178 00000000000000cc", "-178 00000000000000bb", "-178 00000000000000dd"),
                switchAdmin.memberCalls);
        assertTrue(out.text().contains("Authorized 00000000000000cc on network 00000000000000b2"), out.text());
        assertTrue(out.text().contains("00000000000000dd was not authorized"), out.text());
    }

    @Test
    void badInputIsAClearError() {
        command.authorize = "00000000000000cc";
        CommandException e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertTrue(e.getNiceHelp().contains("name the network"), e.getNiceHelp());
        command.network = "b2";
        command.authorize = "bad-key";
        e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertTrue(e.getNiceHelp().contains("not a member: 'bad-key'"), e.getNiceHelp());
        command.network = "ee";
        e = assertThrows(CommandException.class, () -> command.execute(out.stream));
        assertTrue(e.getNiceHelp().contains("no network 00000000000000ee"), e.getNiceHelp());
    }

    @Test
    void json() throws Exception {
        command.json = true;
        command.execute(out.stream);
        assertTrue(out.text().startsWith("{\"switchPublicKey\":\"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\","
                + "\"members\":[{\"network\":\"00000000000000b2\",\"member\":\"300c9c9603b92a4b\""), out.text());
    }
}
