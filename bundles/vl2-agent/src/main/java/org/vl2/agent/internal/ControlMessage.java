package org.vl2.agent.internal;

import org.vl2.protocol.KeyReply;
import org.vl2.protocol.Pair;
import org.vl2.protocol.ProtocolError;
import org.vl2.protocol.Routes;
import org.vl2.protocol.Welcome;

/**
 * vl2 mode: a message from the switch that the receive pump decoded and hands to the control thread (rare: a few
 * per join). Each kind is a record; the session takes them through {@link Handler}, one method per kind, so adding
 * a kind breaks the build of every handler instead of falling through an {@code instanceof} chain.
 */
sealed interface ControlMessage {

    /** What the control thread does with each kind. */
    interface Handler {
        void welcome(Welcome w, long now);

        void error(ProtocolError e, long now);

        /** Encrypted: a RESPONSE or COOKIE-REPLY, still to be verified. */
        void handshakeAnswer(byte[] datagram, long now);

        void keyReply(byte[] publicKey, long now);

        /** An ERROR in a protocol version this agent cannot decode: the switch does not speak version 1. */
        void foreignVersion(int version);

        /** Encrypted: the network's managed routes, opened under the session (docs/routes.md). */
        void routes(Routes routes, long now);

        /** Encrypted: a PAIR (a pair key, or the end of one), opened under the session. */
        void pair(Pair pair, long now);
    }

    void deliverTo(Handler h, long now);

    /** Plaintext: the answer to a JOIN. */
    record Welcomed(Welcome welcome) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.welcome(welcome, now);
        }
    }

    /** An ERROR about a JOIN or a port. */
    record Refused(ProtocolError error) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.error(error, now);
        }
    }

    /** Encrypted: a RESPONSE or COOKIE-REPLY (a copy of the datagram: the control thread verifies it). */
    record HandshakeAnswer(byte[] datagram) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.handshakeAnswer(datagram, now);
        }
    }

    /** The switch's public key, in answer to a KEY-REQUEST (unauthenticated). */
    record KeyOffered(KeyReply reply) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.keyReply(reply.publicKey(), now);
        }
    }

    /** A sealed ROUTES that opened: the routes in force on the network. */
    record RoutesOffered(Routes routes) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.routes(routes, now);
        }
    }

    /** A sealed PAIR that opened under the session: a pair key to take, or a REVOKE. */
    record PairOffered(Pair pair) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.pair(pair, now);
        }
    }

    /** An ERROR in another protocol version. */
    record ForeignVersion(int version) implements ControlMessage {
        @Override
        public void deliverTo(Handler h, long now) {
            h.foreignVersion(version);
        }
    }
}
