package org.vl2.tools.configdoc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Renders docs/configuration.md from the metatype that bnd writes into every bundle (OSGI-INF/metatype/*.xml, from
 * the {@code @ObjectClassDefinition} and {@code @AttributeDefinition} annotations): one section per configuration
 * PID, one table row per attribute. The texts live only in the annotations; this class adds the layout.
 */
final class ConfigurationDoc {

    /** One configuration PID (or factory PID) and what its metatype says. */
    record Pid(String pid, boolean factory, String name, String description, List<Attribute> attributes) {
    }

    record Attribute(String key, String type, String name, String description, String defaultValue, boolean required,
                     String min, String max, boolean multiValued, List<String> options) {
    }

    private ConfigurationDoc() {
    }

    /** Every metatype document in the jars and folders of {@code classPath}, by PID. */
    static List<Pid> read(List<Path> classPath) throws IOException {
        Map<String, Pid> pids = new TreeMap<>();
        for (Path entry : classPath) {
            if (Files.isDirectory(entry)) {
                Path dir = entry.resolve("OSGI-INF/metatype");
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> files = Files.list(dir)) {
                        for (Path f : files.filter(p -> p.toString().endsWith(".xml")).sorted().toList()) {
                            try (InputStream in = Files.newInputStream(f)) {
                                parse(in, f.toString()).forEach(p -> pids.put(p.pid(), p));
                            }
                        }
                    }
                }
            } else if (entry.toString().endsWith(".jar") && Files.isRegularFile(entry)) {
                try (JarFile jar = new JarFile(entry.toFile())) {
                    List<JarEntry> xml = jar.stream().filter(e -> e.getName().startsWith("OSGI-INF/metatype/")
                            && e.getName().endsWith(".xml")).sorted(Comparator.comparing(JarEntry::getName)).toList();
                    for (JarEntry e : xml) {
                        try (InputStream in = jar.getInputStream(e)) {
                            parse(in, entry + "!" + e.getName()).forEach(p -> pids.put(p.pid(), p));
                        }
                    }
                }
            }
        }
        return new ArrayList<>(pids.values());
    }

    private static List<Pid> parse(InputStream in, String where) throws IOException {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            doc = f.newDocumentBuilder().parse(in);
        } catch (Exception e) {
            throw new IOException("cannot read the metatype " + where + ": " + e.getMessage(), e);
        }
        Map<String, Element> ocds = new TreeMap<>();
        for (Element ocd : children(doc.getDocumentElement(), "OCD")) {
            ocds.put(ocd.getAttribute("id"), ocd);
        }
        List<Pid> out = new ArrayList<>();
        for (Element designate : children(doc.getDocumentElement(), "Designate")) {
            boolean factory = !designate.getAttribute("factoryPid").isEmpty();
            String pid = factory ? designate.getAttribute("factoryPid") : designate.getAttribute("pid");
            for (Element object : children(designate, "Object")) {
                Element ocd = ocds.get(object.getAttribute("ocdref"));
                if (ocd == null) {
                    throw new IOException(where + ": Designate " + pid + " names no OCD of this file");
                }
                List<Attribute> attributes = new ArrayList<>();
                for (Element ad : children(ocd, "AD")) {
                    List<String> options = new ArrayList<>();
                    for (Element o : children(ad, "Option")) {
                        options.add(o.getAttribute("value")); // the labels repeat what the description says
                    }
                    String cardinality = ad.getAttribute("cardinality");
                    attributes.add(new Attribute(ad.getAttribute("id"), ad.getAttribute("type"),
                            ad.getAttribute("name"), ad.getAttribute("description"),
                            ad.hasAttribute("default") ? ad.getAttribute("default") : null,
                            !"false".equals(ad.getAttribute("required")), ad.getAttribute("min"),
                            ad.getAttribute("max"), !cardinality.isEmpty() && !"0".equals(cardinality), options));
                }
                out.add(new Pid(pid, factory, ocd.getAttribute("name"), ocd.getAttribute("description"),
                        attributes));
            }
        }
        return out;
    }

    private static List<Element> children(Element parent, String localName) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e
                    && localName.equals(e.getLocalName() != null ? e.getLocalName() : e.getTagName())) {
                out.add(e);
            }
        }
        return out;
    }

    static String render(List<Pid> pids) {
        StringBuilder md = new StringBuilder();
        md.append("# Configuration\n\n");
        md.append("<!-- Generated from the bundles' metatype (the @ObjectClassDefinition and @AttributeDefinition texts)"
                + " by tools/config-doc; do not edit: change the annotations and regenerate (see tools/config-doc). -->"
                + "\n\n");
        md.append("Every vl2 component has one configuration PID. Put `key = value` lines into `etc/<pid>.cfg` (a"
                + " factory PID: one file per instance, `etc/<pid>-<name>.cfg`), or use `config:edit <pid>`,"
                + " `config:property-set` and `config:update` in the shell; `config:meta <pid>` shows the same"
                + " texts as this page. Changes apply at runtime (the port agent applies one by re-creating its TAP"
                + " device). An invalid value is refused with an ERROR naming the key and what is allowed: the"
                + " component keeps its last good configuration (or, at start, does not start), never a half-applied"
                + " one. The launchers `bin/vl2-switch` and `bin/vl2-agent` write these files from their flags"
                + " ([operating.md](operating.md#what-the-launchers-write)).\n\n");
        for (Pid p : pids) {
            md.append("- [`").append(p.pid()).append("`](#").append(anchor(p)).append(") — ").append(p.name())
                    .append(p.factory() ? " (factory)" : "").append('\n');
        }
        for (Pid p : pids) {
            md.append("\n## ").append(heading(p)).append("\n\n");
            md.append(p.factory() ? "Factory PID: one configuration per instance. " : "")
                    .append(sentence(p.description())).append("\n\n");
            md.append("| key | default | allowed | meaning |\n|---|---|---|---|\n");
            for (Attribute a : p.attributes()) {
                md.append("| `").append(a.key()).append("` | ").append(defaultOf(a)).append(" | ")
                        .append(cell(allowed(a))).append(" | ").append(cell(a.name() + ". " + sentence(a.description())))
                        .append(" |\n");
            }
        }
        return md.toString();
    }

    private static String heading(Pid p) {
        return "`" + p.pid() + "` — " + p.name();
    }

    /** GitHub's anchor for {@link #heading}: lower case, punctuation dropped, blanks to '-'. */
    static String anchor(Pid p) {
        return heading(p).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9 _-]", "").replace(' ', '-');
    }

    private static String defaultOf(Attribute a) {
        if (a.defaultValue() == null) {
            return a.required() ? "(required)" : "empty";
        }
        return a.defaultValue().isEmpty() ? "empty" : "`" + a.defaultValue().replace("|", "\\|") + "`";
    }

    private static String allowed(Attribute a) {
        List<String> parts = new ArrayList<>();
        String type = switch (a.type()) {
            case "Integer", "Long" -> "number";
            case "Boolean" -> "`true`/`false`";
            default -> "text";
        };
        if (!a.options().isEmpty()) {
            parts.add(String.join(", ", a.options().stream().map(o -> "`" + o + "`").toList()));
        } else if (!a.min().isEmpty() || !a.max().isEmpty()) {
            parts.add(type + " " + (a.min().isEmpty() ? "" : a.min()) + ".." + (a.max().isEmpty() ? "" : a.max()));
        } else {
            parts.add(type);
        }
        if (a.multiValued()) {
            parts.add("several values: comma-separated or a list");
        }
        return String.join(", ", parts);
    }

    private static String sentence(String s) {
        String t = s.strip();
        return t.isEmpty() || t.endsWith(".") ? t : t + ".";
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\r", "").replace("\n", " ");
    }
}
