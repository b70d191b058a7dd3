package org.vl2.crypto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Whether this machine has AES instructions, which is when AES-GCM is fast on the JVM (HotSpot intrinsifies
 * AES and GHASH with AES-NI/PCLMULQDQ on x86 and the ARMv8 crypto extensions) and constant time (the JDK's
 * software AES uses lookup tables). Read once from the CPU's flags in /proc/cpuinfo: cheap, deterministic, no
 * warm-up or timing noise as a self-measurement would have. Elsewhere (no /proc, another architecture) false:
 * ChaCha20-Poly1305 is the safe choice there, and an operator who knows better pins the cipher.
 */
final class HardwareAes {

    private static volatile Boolean detected;

    private HardwareAes() {
    }

    static boolean present() {
        Boolean d = detected;
        if (d == null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            } catch (IOException | RuntimeException e) {
                lines = List.of();
            }
            d = fromCpuinfo(System.getProperty("os.arch", ""), lines);
            detected = d;
        }
        return d;
    }

    /**
     * x86 ({@code amd64}, {@code x86_64}, {@code x86}, {@code i386}): the {@code flags} line lists {@code aes};
     * {@code aarch64}: the {@code Features} line lists {@code aes}. The first such line decides (all cores alike).
     */
    static boolean fromCpuinfo(String osArch, List<String> cpuinfo) {
        String arch = osArch.toLowerCase(Locale.ROOT);
        String key;
        if (arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86") || arch.matches("i[3-6]86")) {
            key = "flags";
        } else if (arch.equals("aarch64")) {
            key = "features";
        } else {
            return false;
        }
        for (String line : cpuinfo) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals(key)) {
                for (String flag : line.substring(colon + 1).trim().split("\\s+")) {
                    if (flag.equals("aes")) {
                        return true;
                    }
                }
                return false;
            }
        }
        return false;
    }
}
