package org.vl2.shell.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonWriterTest {

    @Test
    void separatesMembersAndElementsWithCommas() {
        String json = new JsonWriter().beginObject()
                .field("a", 1)
                .field("b", "x")
                .name("c").beginArray().value(1).value(true).nullValue().beginObject().endObject().endArray()
                .field("d", false)
                .endObject().toString();

        assertEquals("{\"a\":1,\"b\":\"x\",\"c\":[1,true,null,{}],\"d\":false}", json);
        assertEquals(Map.of("a", 1L, "b", "x", "c", Arrays.asList(1L, true, null, Map.of()), "d", false),
                Json.parse(json));
    }

    @Test
    void emptyContainers() {
        assertEquals("[]", new JsonWriter().beginArray().endArray().toString());
        assertEquals("{}", new JsonWriter().beginObject().endObject().toString());
        assertEquals("[[],[]]", new JsonWriter().beginArray().beginArray().endArray().beginArray().endArray()
                .endArray().toString());
    }

    @Test
    void escapesWhatJsonRequires() {
        String nasty = "quote\" backslash\\ nl\n cr\r tab\t bs\b ff\f nul\u0000 us\u001f ls\u2028 é €";

        String json = new JsonWriter().beginArray().value(nasty).endArray().toString();

        assertEquals("[\"quote\\\" backslash\\\\ nl\\n cr\\r tab\\t bs\\b ff\\f nul\\u0000 us\\u001f ls\\u2028 é €\"]",
                json);
        assertEquals(List.of(nasty), Json.parse(json));
    }

    @Test
    void escapesMemberNames() {
        String json = new JsonWriter().beginObject().field("a\"b", 1).endObject().toString();

        assertEquals("{\"a\\\"b\":1}", json);
    }

    @Test
    void nullStringIsJsonNull() {
        assertEquals("{\"x\":null}", new JsonWriter().beginObject().field("x", (String) null).endObject().toString());
    }

    @Test
    void longsAreWrittenInFull() {
        assertEquals("[-9223372036854775808,9223372036854775807]",
                new JsonWriter().beginArray().value(Long.MIN_VALUE).value(Long.MAX_VALUE).endArray().toString());
    }

    @Test
    void testParserRejectsInvalidJson() {
        // the checks in the other tests are only as good as this parser
        for (String bad : List.of("", "[1,]", "{\"a\":1,}", "[1 2]", "{a:1}", "[\"x]", "[01]", "[1]x", "{\"a\":1,\"a\":2}",
                "[\"tab\there\"]", "[tru]")) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
    }
}
