package org.vl2.shell.command;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Captures what a command prints. */
final class Out {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    List<String> lines() {
        return text().lines().toList();
    }

    /** Cells of a --no-format line: tab-separated, padding trimmed. */
    static List<String> cells(String line) {
        return List.of(line.split("\t")).stream().map(String::trim).toList();
    }

    /** Cells of a formatted table line: separated by {@code |} (ASCII) or {@code │} (Unicode). */
    static List<String> tableCells(String line) {
        return List.of(line.split("[|\u2502]")).stream().map(String::trim).toList();
    }
}
