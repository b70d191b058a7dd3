package org.vl2.rest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vl2.api.AgentService;
import org.vl2.api.MacTableService;
import org.vl2.api.SwitchAdminService;
import org.vl2.api.SwitchService;
import org.vl2.json.Views;

/**
 * The HTTP entry of the API ({@code /api/*}) and the metrics ({@code /metrics}), one servlet on the OSGi HTTP
 * Whiteboard: authenticates every request, checks the role and the request's origin, routes, and writes the answer
 * or the error as JSON. The vl2 services are optional and dynamic: the same bundle serves a switch and an agent.
 */
@Component(service = Servlet.class, configurationPid = HttpEntry.PID,
        property = {"osgi.http.whiteboard.servlet.pattern=/api/*", "osgi.http.whiteboard.servlet.pattern=/metrics",
                "osgi.http.whiteboard.servlet.name=vl2-api"})
@Designate(ocd = RestConfig.class)
public final class HttpEntry extends HttpServlet {

    static final String PID = "org.vl2.rest";
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(HttpEntry.class);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile SwitchService switchService;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile SwitchAdminService switchAdmin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile MacTableService macTable;
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private final List<AgentService> agents = new CopyOnWriteArrayList<>();

    private final transient Api api;
    private final transient Metrics metrics;
    private final transient Authenticator authenticator;
    private final String readRole;
    private final String writeRole;

    @Activate
    public HttpEntry(RestConfig config, @Reference TokenStore tokens) {
        this(config, Authenticator.jaas(config.realm()), tokens);
    }

    HttpEntry(RestConfig config, Authenticator.Realm realm, TokenStore tokens) {
        this.readRole = config.read_role();
        this.writeRole = config.write_role();
        this.authenticator = new Authenticator(realm, secret -> {
            org.vl2.api.ApiToken t = tokens.check(secret);
            return t == null ? null : new Authenticator.Login("token " + t.name(), Set.of(t.admin() ? writeRole
                    : readRole));
        }, System::nanoTime);
        this.api = new Api(() -> switchService, () -> switchAdmin, () -> macTable, () -> agents, Instant::now);
        this.metrics = new Metrics(() -> switchService, () -> macTable, () -> agents, config.metrics_port_limit());
        LOG.info("vl2 HTTP API started: /api and /metrics, HTTP Basic against JAAS realm '{}' or an API token (read:"
                + " role {}, write:"
                + " role {}); the address is Pax Web's (org.ops4j.pax.web)", config.realm(), readRole, writeRole);
    }

    /** For tests: the services, set directly. */
    HttpEntry with(SwitchService s, SwitchAdminService a, MacTableService m, Collection<AgentService> agentServices) {
        switchService = s;
        switchAdmin = a;
        macTable = m;
        agents.addAll(agentServices);
        return this;
    }

    @Deactivate
    void deactivate() {
        LOG.info("vl2 HTTP API stopped");
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getRequestURI().substring(req.getContextPath().length());
        String method = req.getMethod();
        try {
            checkOrigin(req);
            Authenticator.Login login = authenticator.authenticate(req.getHeader("Authorization"),
                    req.getRemoteAddr());
            boolean write = !method.equals("GET") && !method.equals("HEAD");
            String role = write ? writeRole : readRole;
            if (!login.roles().contains(role) && !login.roles().contains(writeRole)) {
                throw new HttpError(403, "user " + login.user() + " lacks role " + role);
            }
            if (path.equals("/metrics")) {
                if (!method.equals("GET")) {
                    throw new HttpError(405, method + " is not allowed on /metrics (allowed: GET)");
                }
                resp.setStatus(200);
                resp.setContentType(Metrics.CONTENT_TYPE);
                resp.setHeader("Cache-Control", "no-store");
                try (OutputStream out = resp.getOutputStream()) {
                    metrics.write(out);
                }
                return;
            }
            if (write) {
                // a browser sends this type cross-site only after a CORS preflight, which is never answered: no
                // other site can make a logged-in browser change the switch
                String type = req.getContentType();
                if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
                    throw new HttpError(415, "changes need Content-Type: application/json (also without a body)");
                }
            }
            String sub = path.startsWith("/api") ? path.substring(4) : path;
            Exchange x;
            try (InputStream body = req.getInputStream()) {
                Router.Match match = api.router().match(method, sub);
                x = new Exchange(match.variables(), req.getParameterMap(), body, login.user());
                JsonNode answer = match.route().handler().handle(x);
                if (write) {
                    LOG.info("API {} {} by {}: {}", method, sub, login.user(), x.status);
                }
                if (answer == null) {
                    resp.setStatus(204);
                    return;
                }
                if (x.location != null) {
                    resp.setHeader("Location", x.location);
                }
                send(resp, x.status, answer);
            }
        } catch (HttpError e) {
            if (e.status == 401 && req.getHeader("X-Requested-With") == null) {
                // not to the console's own requests (it has a login form): the challenge would make the browser
                // open its login dialog over the page
                resp.setHeader("WWW-Authenticate", "Basic realm=\"vl2\", charset=\"UTF-8\"");
            }
            ObjectNode o = Views.MAPPER.createObjectNode().put("status", e.status).put("error", e.getMessage());
            if (e.field != null) {
                o.put("field", e.field);
            }
            send(resp, e.status, o);
        } catch (RuntimeException e) {
            LOG.warn("API {} {} failed: {}", method, path, e.toString());
            send(resp, 500, Views.MAPPER.createObjectNode().put("status", 500).put("error",
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    /** A request a page of another site made (Origin names another host): refused, whatever it carries. */
    private static void checkOrigin(HttpServletRequest req) {
        String origin = req.getHeader("Origin");
        if (origin == null) {
            return;
        }
        String host = req.getHeader("Host");
        String bare = origin.replaceFirst("^[a-zA-Z][a-zA-Z0-9+.-]*://", "");
        if (host == null || !bare.equalsIgnoreCase(host)) {
            throw new HttpError(403, "cross-origin request refused (Origin " + origin + ")");
        }
    }

    private static void send(HttpServletResponse resp, int status, JsonNode body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.setHeader("X-Content-Type-Options", "nosniff");
        byte[] bytes = Views.MAPPER.writeValueAsBytes(body);
        resp.setContentLength(bytes.length);
        try (OutputStream out = resp.getOutputStream()) {
            out.write(bytes);
        }
    }
}
