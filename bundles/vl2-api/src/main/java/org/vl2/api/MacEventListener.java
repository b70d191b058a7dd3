package org.vl2.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard listener for MAC table changes: register it as an OSGi service. Called on the thread that
 * made the change (possibly a frame receive thread), so return quickly and never block.
 */
@ConsumerType
@FunctionalInterface
public interface MacEventListener {

    void event(MacEvent event);
}
