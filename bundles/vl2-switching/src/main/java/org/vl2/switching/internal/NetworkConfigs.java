package org.vl2.switching.internal;

import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.vl2.api.InvalidSettingException;

/**
 * A network's settings as text (what an operator sends through the API) to and from its configuration
 * ({@link NetworkConfig}, property names as DS maps them: {@code ipv4_pool} is {@code ipv4.pool}, {@code private$}
 * is {@code private}). Every value is checked for its type here, naming the property; what the values mean is
 * checked by {@link NetworkSettings#from}.
 */
final class NetworkConfigs {

    /** Property name -> the attribute method of {@link NetworkConfig}. */
    private static final Map<String, Method> ATTRIBUTES = new TreeMap<>();

    static {
        for (Method m : NetworkConfig.class.getDeclaredMethods()) {
            ATTRIBUTES.put(property(m.getName()), m);
        }
    }

    private NetworkConfigs() {
    }

    /** The DS property name of an attribute method (single "_" to ".", a trailing "$" dropped). */
    static String property(String method) {
        return method.replace("$", "").replace('_', '.');
    }

    /** The properties a network configuration may have. */
    static java.util.Set<String> properties() {
        return ATTRIBUTES.keySet();
    }

    /**
     * The typed configuration properties for {@code settings} (text), in the types the attributes have.
     *
     * @throws InvalidSettingException naming an unknown property or a value of the wrong type
     */
    static Map<String, Object> typed(Map<String, String> settings) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : settings.entrySet()) {
            String key = e.getKey() == null ? "" : e.getKey().trim();
            Method m = ATTRIBUTES.get(key);
            if (m == null) {
                throw new InvalidSettingException(key, "unknown network setting '" + key + "' (settings: "
                        + String.join(", ", ATTRIBUTES.keySet()) + ")");
            }
            String text = e.getValue() == null ? "" : e.getValue().trim();
            out.put(key, convert(key, m.getReturnType(), text));
        }
        return out;
    }

    private static Object convert(String key, Class<?> type, String text) {
        try {
            if (type == String.class) {
                return text;
            } else if (type == int.class) {
                return Integer.valueOf(text);
            } else if (type == long.class) {
                return Long.valueOf(text);
            } else if (type == boolean.class) {
                String t = text.toLowerCase(Locale.ROOT);
                if (!t.equals("true") && !t.equals("false")) {
                    throw new InvalidSettingException(key, key + "='" + text + "' (must be true or false)");
                }
                return Boolean.valueOf(t);
            } else if (type == String[].class) {
                return Arrays.stream(text.split("[,\\s]+")).filter(s -> !s.isBlank()).toArray(String[]::new);
            }
        } catch (NumberFormatException ex) {
            throw new InvalidSettingException(key, key + "='" + text + "' (must be a whole number)");
        }
        throw new IllegalStateException("attribute type " + type + " of " + key);
    }

    /** The settings of a configuration as text (lists comma-separated), without framework properties. */
    static Map<String, String> text(Dictionary<String, Object> props) {
        Map<String, String> out = new TreeMap<>();
        if (props == null) {
            return out;
        }
        for (Enumeration<String> keys = props.keys(); keys.hasMoreElements(); ) {
            String k = keys.nextElement();
            if (ATTRIBUTES.containsKey(k)) {
                out.put(k, text(props.get(k)));
            }
        }
        return out;
    }

    private static String text(Object v) {
        if (v == null) {
            return "";
        }
        if (v.getClass().isArray()) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < Array.getLength(v); i++) {
                b.append(i == 0 ? "" : ",").append(Array.get(v, i));
            }
            return b.toString();
        }
        if (v instanceof Collection<?> c) {
            return String.join(",", c.stream().map(String::valueOf).toList());
        }
        return v.toString();
    }

    /** A dictionary for ConfigurationAdmin from typed properties. */
    static Dictionary<String, Object> dictionary(Map<String, Object> typed) {
        return new Hashtable<>(typed);
    }

    /** {@code typed} as the {@link NetworkConfig} DS would hand the component: defaults for what is missing. */
    static NetworkConfig config(Map<String, Object> typed) {
        return (NetworkConfig) Proxy.newProxyInstance(NetworkConfig.class.getClassLoader(),
                new Class<?>[] {NetworkConfig.class}, (proxy, method, args) -> {
                    String p = property(method.getName());
                    if (ATTRIBUTES.containsKey(p)) {
                        Object v = typed.get(p);
                        return v != null ? v : method.getDefaultValue();
                    }
                    return switch (method.getName()) {
                        case "annotationType" -> NetworkConfig.class;
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> "NetworkConfig" + typed;
                    };
                });
    }
}
