package org.vl2.console.internal;

import org.osgi.service.component.annotations.Component;

/**
 * Registers the bundle's {@code /console} folder (HTML, JavaScript, CSS) as static resources on the OSGi HTTP
 * Whiteboard at {@code /console/*}. The files hold no data: everything the page shows comes from the HTTP API,
 * which authenticates every request, so the files themselves need no login.
 */
@Component(service = ConsoleResources.class, property = {
    "osgi.http.whiteboard.resource.pattern=/console/*",
    "osgi.http.whiteboard.resource.prefix=/console"})
public final class ConsoleResources {

    /** The files a console needs; a test checks they are in the bundle and refer to nothing outside it. */
    static final String[] FILES = {"index.html", "console.js", "console.css", "favicon.svg"};
}
