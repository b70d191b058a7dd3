package org.vl2.rest.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import com.fasterxml.jackson.databind.JsonNode;

import org.vl2.json.Views;

/** Requests to a servlet without a container: the parts of the servlet API {@link HttpEntry} uses. */
final class FakeHttp {

    /** An answer: status, headers, body. */
    record Answer(int status, Map<String, String> headers, String body) {

        JsonNode json() {
            try {
                return Views.MAPPER.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static Answer call(HttpEntry servlet, String method, String uri, Map<String, String> headers, String body)
            throws Exception {
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        Map<String, String[]> params = new HashMap<>();
        if (uri.contains("?")) {
            for (String kv : uri.substring(uri.indexOf('?') + 1).split("&")) {
                String[] p = kv.split("=", 2);
                params.put(p[0], new String[] {p.length > 1 ? p[1] : ""});
            }
        }
        ByteArrayInputStream in = new ByteArrayInputStream(body == null ? new byte[0]
                : body.getBytes(StandardCharsets.UTF_8));
        ServletInputStream sin = new ServletInputStream() {
            @Override
            public boolean isFinished() {
                return in.available() == 0;
            }

            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setReadListener(ReadListener l) {
            }

            @Override
            public int read() {
                return in.read();
            }
        };
        HttpServletRequest req = (HttpServletRequest) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getRequestURI" -> path;
                    case "getContextPath" -> "";
                    case "getMethod" -> method;
                    case "getHeader" -> headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(
                            (String) args[0])).map(Map.Entry::getValue).findFirst().orElse(null);
                    case "getContentType" -> headers.get("Content-Type");
                    case "getRemoteAddr" -> "127.0.0.1";
                    case "getParameterMap" -> params;
                    case "getInputStream" -> sin;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ServletOutputStream sout = new ServletOutputStream() {
            @Override
            public boolean isReady() {
                return true;
            }

            @Override
            public void setWriteListener(WriteListener l) {
            }

            @Override
            public void write(int b) {
                out.write(b);
            }
        };
        int[] status = {200};
        Map<String, String> respHeaders = new LinkedHashMap<>();
        HttpServletResponse resp = (HttpServletResponse) Proxy.newProxyInstance(FakeHttp.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "setStatus" -> status[0] = (Integer) args[0];
                        case "setHeader" -> respHeaders.put((String) args[0], (String) args[1]);
                        case "setContentType" -> respHeaders.put("Content-Type", (String) args[0]);
                        case "getOutputStream" -> {
                            return sout;
                        }
                        case "setCharacterEncoding", "setContentLength" -> { }
                        default -> throw new UnsupportedOperationException(m.getName());
                    }
                    return null;
                });
        servlet.service(req, resp);
        return new Answer(status[0], respHeaders, out.toString(StandardCharsets.UTF_8));
    }
}
