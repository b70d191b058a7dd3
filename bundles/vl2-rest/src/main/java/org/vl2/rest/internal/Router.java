package org.vl2.rest.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The API's routes: an HTTP method and a path template ({@code /networks/{network}}) to a handler. A dozen routes
 * do not need a JAX-RS runtime (docs/api.md says why this stack); matching is by segments, in the order the
 * routes were added, so a fixed segment added first wins over a variable one.
 */
final class Router {

    /** What a route does with a request. */
    @FunctionalInterface
    interface Handler {
        /** The response body (a Jackson tree, or null for 204 No Content). */
        com.fasterxml.jackson.databind.JsonNode handle(Exchange exchange) throws HttpError;
    }

    /** A route: method, template and the access it needs. */
    record Route(String method, String template, boolean write, Handler handler) {

        List<String> segments() {
            return split(template);
        }
    }

    /** A route matched, with the values of its path variables. */
    record Match(Route route, Map<String, String> variables) {
    }

    private final List<Route> routes = new ArrayList<>();

    Router get(String template, Handler h) {
        routes.add(new Route("GET", template, false, h));
        return this;
    }

    Router write(String method, String template, Handler h) {
        routes.add(new Route(method, template, true, h));
        return this;
    }

    List<Route> routes() {
        return List.copyOf(routes);
    }

    /**
     * The route for a request.
     *
     * @throws HttpError 404 when no template matches the path, 405 when one does but not for this method
     */
    Match match(String method, String path) {
        List<String> actual = split(path);
        Set<String> allowed = new TreeSet<>();
        for (Route r : routes) {
            Map<String, String> vars = bind(r.segments(), actual);
            if (vars == null) {
                continue;
            }
            if (r.method.equals(method)) {
                return new Match(r, vars);
            }
            allowed.add(r.method);
        }
        if (allowed.isEmpty()) {
            throw HttpError.notFound("no such resource: " + path);
        }
        throw new HttpError(405, method + " is not allowed on " + path + " (allowed: " + String.join(", ", allowed)
                + ")");
    }

    private static Map<String, String> bind(List<String> template, List<String> actual) {
        if (template.size() != actual.size()) {
            return null;
        }
        Map<String, String> vars = new LinkedHashMap<>();
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            if (t.startsWith("{") && t.endsWith("}")) {
                vars.put(t.substring(1, t.length() - 1), actual.get(i));
            } else if (!t.equals(actual.get(i))) {
                return null;
            }
        }
        return vars;
    }

    private static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        for (String s : (path == null ? "" : path).split("/")) {
            if (!s.isEmpty()) {
                out.add(java.net.URLDecoder.decode(s.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
