package org.vl2.console.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** The console's files are in the bundle and load nothing from elsewhere (it must work without internet access). */
class ConsoleResourcesTest {

    static String read(String name) throws Exception {
        try (InputStream in = ConsoleResources.class.getResourceAsStream("/console/" + name)) {
            assertNotNull(in, name + " is in the bundle");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void everyFileIsThereAndNothingComesFromAnotherHost() throws Exception {
        for (String f : ConsoleResources.FILES) {
            // an SVG names its XML namespace with a URI, which is never fetched
            String body = read(f).replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
            assertFalse(body.contains("http://") || body.contains("https://") || body.contains("//cdn"),
                    f + " refers to another host");
        }
        // every file the page loads is one of ours
        Matcher m = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(read("index.html"));
        int refs = 0;
        while (m.find()) {
            refs++;
            assertTrue(java.util.List.of(ConsoleResources.FILES).contains(m.group(1)), m.group(1));
        }
        assertTrue(refs >= 2);
        assertTrue(read("console.js").contains("'/api'"), "the page talks to the API, relative to its host");
    }
}
