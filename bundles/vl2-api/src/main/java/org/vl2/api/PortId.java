package org.vl2.api;

/**
 * Identity of a switch port: a positive number, unique for the life of a switch instance. The switch
 * keeps one instance per port, so the hot path compares and stores references, never allocates.
 */
public final class PortId implements Comparable<PortId> {

    /**
     * Not a port: what a {@link org.vl2.api.spi.ForwardingPolicy} returns to flood a frame to every port
     * of the network but the one it came in on.
     */
    public static final PortId FLOOD = new PortId(0);

    private final int number;

    private PortId(int number) {
        this.number = number;
    }

    /** @throws IllegalArgumentException unless {@code number >= 1} */
    public static PortId of(int number) {
        if (number < 1) {
            throw new IllegalArgumentException("port numbers start at 1, got " + number);
        }
        return new PortId(number);
    }

    /**
     * Parses a port as users type it: {@code 3} or {@code p3}.
     *
     * @throws IllegalArgumentException naming the input
     */
    public static PortId valueOf(String text) {
        String s = text == null ? "" : text.trim();
        if (s.startsWith("p") || s.startsWith("P")) {
            s = s.substring(1);
        }
        try {
            return of(Integer.parseInt(s));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a port: '" + text + "' (expected a port number such as 3)");
        }
    }

    public int number() {
        return number;
    }

    public boolean isFlood() {
        return number == 0;
    }

    @Override
    public int compareTo(PortId o) {
        return Integer.compare(number, o.number);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PortId && ((PortId) o).number == number;
    }

    @Override
    public int hashCode() {
        return number;
    }

    @Override
    public String toString() {
        return number == 0 ? "flood" : Integer.toString(number);
    }
}
