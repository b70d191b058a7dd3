package org.vl2.crypto;

/**
 * A session's AES-256-GCM on {@link IntrinsicGcm}: per thread, {@link SessionAead#SLOTS} engines per direction, each
 * keeping the key schedule and GHASH table of the last key it sealed or opened with. The nonce is 4 zero bytes and
 * the 8-byte counter.
 */
final class IntrinsicAead extends SessionAead {

    private static final ThreadLocal<Object[][]> ENGINES = ThreadLocal.withInitial(() -> new Object[2 * SLOTS][]);

    IntrinsicAead(int slot, byte[] sendKey, byte[] receiveKey) {
        super(CipherSuite.AES_256_GCM, slot, sendKey, receiveKey);
    }

    @Override
    void seal(byte[] a, int at, int headerLength, int payloadLength, long counter) {
        IntrinsicGcm.seal(IntrinsicGcm.keyed(engine(false), sendKey), 0, counter, a, at, headerLength, payloadLength);
    }

    @Override
    boolean open(byte[] a, int at, int headerLength, int sealedLength, long counter) {
        return IntrinsicGcm.open(IntrinsicGcm.keyed(engine(true), receiveKey), 0, counter, a, at, headerLength,
                sealedLength);
    }

    @Override
    Object perThread(boolean open) {
        return engine(open);
    }

    private Object[] engine(boolean open) {
        Object[][] engines = ENGINES.get();
        int i = (open ? SLOTS : 0) + slot;
        Object[] e = engines[i];
        if (e == null) {
            e = IntrinsicGcm.engine();
            engines[i] = e;
        }
        return e;
    }
}
