package org.vl2.rest.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The HTTP API's and metrics' configuration (PID {@value HttpEntry#PID}). Where the HTTP server listens (address,
 * port, TLS) is Pax Web's configuration, org.ops4j.pax.web (see docs/api.md).
 */
@ObjectClassDefinition(name = "vl2 HTTP API and metrics",
        description = "The JSON API under /api and Prometheus metrics at /metrics, on Karaf's HTTP service; every "
                + "request authenticates (HTTP Basic) against a JAAS realm.")
public @interface RestConfig {

    @AttributeDefinition(name = "JAAS realm",
            description = "The Karaf JAAS realm requests authenticate against (HTTP Basic); karaf is "
                    + "etc/users.properties, where the vl2 launchers keep the instance's generated password.")
    String realm() default "karaf";

    @AttributeDefinition(name = "Read role",
            description = "The role a user needs to read (GET, /metrics).")
    String read_role() default "viewer";

    @AttributeDefinition(name = "Write role",
            description = "The role a user needs to change anything (POST, PUT, PATCH, DELETE); it also reads.")
    String write_role() default "admin";

    @AttributeDefinition(name = "Ports with their own metrics",
            description = "Per-port series (labels port and network) for at most this many ports, those with the "
                    + "lowest numbers; every port still counts in its network's series. Bounds the label "
                    + "cardinality of /metrics. 0: no per-port series.", min = "0", max = "100000")
    int metrics_port_limit() default 1024;
}
