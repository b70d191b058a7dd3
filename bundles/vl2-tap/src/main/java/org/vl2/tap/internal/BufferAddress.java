package org.vl2.tap.internal;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import sun.misc.Unsafe;

/**
 * The native address of a direct {@link ByteBuffer}, so that TAP reads and writes hand the kernel a plain
 * {@code long} instead of a buffer object. JNA marshals a {@code ByteBuffer} argument with three calls back into
 * the JVM on every call ({@code IsInstanceOf}, {@code Buffer.position()}, {@code GetDirectBufferAddress}); a
 * {@code long} it passes as it is. The address is the one NIO's own channels hand the kernel: the {@code address}
 * field of {@link Buffer} (the buffer's index 0; a slice's or duplicate's own), read with one memory load through
 * {@code sun.misc.Unsafe}.
 *
 * <p>{@link #available()} is false where that field cannot be read (a JVM without it, or whose value does not match
 * what JNA reports for a probe buffer): the callers then keep passing the buffer to JNA, which is slower but the
 * same. The caller keeps the buffer reachable until the system call has returned (its memory is freed with it).
 */
final class BufferAddress {

    private static final Unsafe UNSAFE;
    private static final long ADDRESS;

    static {
        Unsafe unsafe = null;
        long offset = -1;
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = (Unsafe) f.get(null);
            offset = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
            if (!agrees(unsafe, offset)) {
                unsafe = null;
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            unsafe = null;
        }
        UNSAFE = unsafe;
        ADDRESS = offset;
    }

    private BufferAddress() {
    }

    /** Checks the field against JNA on a buffer, a slice and a duplicate: all three must agree. */
    private static boolean agrees(Unsafe unsafe, long offset) {
        ByteBuffer b = ByteBuffer.allocateDirect(64);
        ByteBuffer slice = b.slice(24, 8);
        ByteBuffer copy = b.duplicate().position(5);
        return unsafe.getLong(b, offset) == jna(b) && unsafe.getLong(slice, offset) == jna(b) + 24
                && unsafe.getLong(slice, offset) == jna(slice) && unsafe.getLong(copy, offset) == jna(b);
    }

    /** What JNA says is the address of {@code b}'s index 0 (a JNI call and a small object: not for every frame). */
    static long jna(ByteBuffer b) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(b));
    }

    /** True when {@link #of} works on this JVM. */
    static boolean available() {
        return UNSAFE != null;
    }

    /**
     * The address of index 0 of {@code direct} (not of its position). Only when {@link #available()}; the buffer
     * must be direct (a heap buffer's field is 0 or meaningless).
     */
    static long of(ByteBuffer direct) {
        return UNSAFE.getLong(direct, ADDRESS);
    }
}
