package org.vl2.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.vl2.api.Networks;
import org.vl2.api.PortId;
import org.vl2.json.Views;

/**
 * One request as a resource sees it: its path variables, query parameters and JSON body, each read with the
 * 400 answer that names the input at fault.
 */
final class Exchange {

    /** A larger body is refused (413): network settings are a few hundred bytes. */
    static final int MAX_BODY = 64 * 1024;

    private final Map<String, String> variables;
    private final Map<String, String[]> query;
    private final InputStream body;
    final String user;
    /** Status of a successful answer (200 unless a handler says 201). */
    int status = 200;
    /** The Location header of a 201 answer, or null. */
    String location;

    Exchange(Map<String, String> variables, Map<String, String[]> query, InputStream body, String user) {
        this.variables = variables;
        this.query = query;
        this.body = body;
        this.user = user;
    }

    String variable(String name) {
        return variables.get(name);
    }

    /** A query parameter, null if absent or empty. */
    String query(String name) {
        String[] v = query.get(name);
        return v == null || v.length == 0 || v[0].isBlank() ? null : v[0].trim();
    }

    int queryInt(String name, int dflt, int min, int max) {
        String v = query(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw HttpError.badRequest(name, name + "=" + v + " (must be " + min + ".." + max + ")");
    }

    /** The network named by path variable or query parameter {@code name}. */
    static long network(String name, String text) {
        try {
            return Networks.parse(text);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest(name, e.getMessage());
        }
    }

    static PortId port(String name, String text) {
        try {
            return PortId.valueOf(text);
        } catch (IllegalArgumentException e) {
            throw HttpError.badRequest(name, "not a port: '" + text + "' (a port number such as 3)");
        }
    }

    /** The body as a JSON object. */
    JsonNode jsonObject() {
        try {
            byte[] bytes = body.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new HttpError(413, "the body is larger than " + MAX_BODY + " bytes");
            }
            JsonNode node = bytes.length == 0 ? null : Views.MAPPER.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw HttpError.badRequest("body", "the body must be a JSON object");
            }
            return node;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw HttpError.badRequest("body", "the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new HttpError(400, "the body could not be read: " + e.getMessage(), "body");
        }
    }
}
