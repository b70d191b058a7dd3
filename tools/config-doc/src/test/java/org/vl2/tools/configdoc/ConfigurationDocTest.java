package org.vl2.tools.configdoc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is generated from the bundles' metatype; this fails when it is out of date, and writes the
 * up-to-date text to target/configuration.md. {@code -Dvl2.configDoc.write} writes docs/configuration.md instead.
 */
class ConfigurationDocTest {

    private static final Path DOC = Path.of("../../docs/configuration.md");
    private static final String REGENERATE = "mvn -B -q -pl tools/config-doc -am verify -Dvl2.fuzz=0 "
            + "-Dtest=ConfigurationDocTest -Dsurefire.failIfNoSpecifiedTests=false -Dvl2.configDoc.write";

    @Test
    void configurationMdIsWhatTheMetatypeSays() throws Exception {
        List<ConfigurationDoc.Pid> pids = ConfigurationDoc.read(Arrays.stream(
                System.getProperty("java.class.path").split(File.pathSeparator)).map(Path::of).toList());
        List<String> names = pids.stream().map(ConfigurationDoc.Pid::pid).toList();
        for (String pid : List.of("org.vl2.agent", "org.vl2.mactable", "org.vl2.network", "org.vl2.switching",
                "org.vl2.rest", "org.vl2.transport.udp", "org.vl2.transport.vl2", "org.vl2.transport.vxlan",
                "org.vl2.transport.tcp")) {
            assertTrue(names.contains(pid), "the metatype of " + pid + " is on the class path: " + names);
        }
        String text = ConfigurationDoc.render(pids);
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/configuration.md"), text, StandardCharsets.UTF_8);
        if (System.getProperty("vl2.configDoc.write") != null) {
            Files.writeString(DOC, text, StandardCharsets.UTF_8);
            return;
        }
        String current = Files.isRegularFile(DOC) ? Files.readString(DOC, StandardCharsets.UTF_8) : "";
        if (!current.equals(text)) {
            fail("docs/configuration.md is out of date with the @AttributeDefinition texts of the bundles. Regenerate "
                    + "it: cp tools/config-doc/target/configuration.md docs/configuration.md (written by this build), "
                    + "or run " + REGENERATE);
        }
    }

    @Test
    void anchorsAreGitHubs() {
        ConfigurationDoc.Pid p = new ConfigurationDoc.Pid("org.vl2.transport.udp", false, "vl2 UDP transport", "",
                List.of());
        assertEquals("orgvl2transportudp--vl2-udp-transport", ConfigurationDoc.anchor(p));
    }
}
