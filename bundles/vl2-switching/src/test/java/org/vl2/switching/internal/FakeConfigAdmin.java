package org.vl2.switching.internal;

import java.lang.annotation.Annotation;
import java.lang.reflect.Array;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * An in-memory ConfigurationAdmin: configurations by PID, every update recorded and handed to {@link #deliver}
 * (by default nowhere), as ConfigAdmin hands it to the configured component. {@link #annotation} turns properties
 * into a typed configuration the way DS does (method {@code a_b} = property {@code a.b}, defaults otherwise).
 */
final class FakeConfigAdmin {

    private final Map<String, Hashtable<String, Object>> stored = new HashMap<>();
    /** Every update: PID and the properties written. */
    final List<Map.Entry<String, Hashtable<String, Object>>> updates = new ArrayList<>();
    /** Where updates go (the component under test); none by default. */
    BiConsumer<String, Hashtable<String, Object>> deliver = (pid, props) -> { };
    private final ConfigurationAdmin admin;

    FakeConfigAdmin() {
        admin = (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ConfigurationAdmin.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConfiguration")) {
                        return configuration((String) args[0]);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    ConfigurationAdmin admin() {
        return admin;
    }

    /** Stores properties for {@code pid} without delivering them (a configuration that exists already). */
    void put(String pid, Map<String, Object> props) {
        stored.put(pid, new Hashtable<>(props));
    }

    Hashtable<String, Object> properties(String pid) {
        return stored.get(pid);
    }

    private Configuration configuration(String pid) {
        return (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Configuration.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getPid" -> pid;
                    case "getProperties" -> stored.containsKey(pid) ? new Hashtable<>(stored.get(pid)) : null;
                    case "update" -> {
                        Hashtable<String, Object> copy = copy(args[0]);
                        stored.put(pid, copy);
                        updates.add(Map.entry(pid, copy));
                        deliver.accept(pid, copy);
                        yield null;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @SuppressWarnings("unchecked")
    private static Hashtable<String, Object> copy(Object dictionary) {
        Dictionary<String, Object> d = (Dictionary<String, Object>) dictionary;
        Hashtable<String, Object> copy = new Hashtable<>();
        for (Enumeration<String> keys = d.keys(); keys.hasMoreElements(); ) {
            String k = keys.nextElement();
            copy.put(k, d.get(k));
        }
        return copy;
    }

    /** A typed configuration of {@code type} over {@code props}, as DS builds it. */
    static <A extends Annotation> A annotation(Class<A> type, Map<String, Object> props) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
            if (m.getName().equals("annotationType")) {
                return type;
            }
            Object v = props.get(m.getName().replace("$", "").replace('_', '.'));
            return v == null ? m.getDefaultValue() : convert(v, m.getReturnType());
        }));
    }

    private static Object convert(Object v, Class<?> to) {
        if (to.isInstance(v) || to == int.class && v instanceof Integer || to == long.class && v instanceof Long
                || to == boolean.class && v instanceof Boolean) {
            return v;
        }
        if (to == String[].class) {
            if (v instanceof Collection<?> c) {
                return c.stream().map(String::valueOf).toArray(String[]::new);
            }
            if (v.getClass().isArray()) {
                String[] a = new String[Array.getLength(v)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = String.valueOf(Array.get(v, i));
                }
                return a;
            }
            return new String[] {String.valueOf(v)};
        }
        String s = String.valueOf(v);
        if (to == int.class) {
            return Integer.parseInt(s);
        }
        if (to == long.class) {
            return Long.parseLong(s);
        }
        if (to == boolean.class) {
            return Boolean.parseBoolean(s);
        }
        return s;
    }
}
