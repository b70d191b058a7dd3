package org.vl2.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.vl2.e2e.Lab.Bg;

/**
 * The web console in a real browser ({@link ConsoleBrowser}), as an operator uses it on a switch with a private
 * network: log in (a wrong password is refused first), see the two authorized agents online, authorize the member
 * waiting there with its button, watch it come online, ping from it and see the counters and the port's rates move,
 * find its MAC in the MAC table (a bad MAC is refused naming the field), deauthorize it again (confirmed; it is
 * waiting once more, as before) and log out. The browser's console must log no error but the refused login. A
 * screenshot at each step ({@code itests/target/e2e/console-screenshots/}).
 *
 * <p>Run from {@link NetworkE2EIT} on its lab (no boot of its own): the switch in namespace {@code sw} serves the
 * console on its loopback, where the browser runs.
 */
final class ConsoleWalkthrough {

    private static final Duration STEP = Duration.ofSeconds(60);
    private static final String URL = "http://127.0.0.1:8181/console/index.html";

    private final LabKit kit;
    private final String network;
    private final Map<String, String> ns;
    private final Map<String, String> keys;
    private final Map<String, String> results;
    private ConsoleBrowser b;

    /**
     * @param network the private network (16 hex digits) whose members {@code p1} and {@code p2} are authorized and
     *                online and {@code u1} is waiting
     * @param ns      the hosts' namespaces, {@code keys} their agents' public keys (as vl2:members shows them)
     */
    ConsoleWalkthrough(LabKit kit, String network, Map<String, String> ns, Map<String, String> keys,
                       Map<String, String> results) {
        this.kit = kit;
        this.network = network;
        this.ns = ns;
        this.keys = keys;
        this.results = results;
    }

    /**
     * Walks through the console; {@code address} gives a host's address in the network once its agent has it
     * (waiting for it).
     */
    void run(Function<String, String> address) throws IOException {
        String p1 = address.apply("p1");
        address.apply("p2");
        try (ConsoleBrowser browser = new ConsoleBrowser(kit.sw, kit.lab.work)) {
            b = browser;
            kit.moreDiagnostics.put("console in the browser", b::diagnostics);
            try {
                logIn();
                authorize();
                String u1 = address.apply("u1");
                LabKit.ping(ns.get("u1"), p1, 3);
                results.put("console: authorized u1 came online", "address " + u1 + ", ping u1 -> p1 ok");
                countersMove(u1, p1);
                macSearch();
                deauthorize();
                logOut();
                List<String> errors = b.severeMessages();
                assertTrue("no errors in the browser's console:\n" + String.join("\n", errors), errors.isEmpty());
            } finally {
                kit.moreDiagnostics.remove("console in the browser");
            }
        }
    }

    private void logIn() throws IOException {
        b.open(URL);
        b.await("the login form", STEP, d -> d.findElement(By.id("login-form")).isDisplayed());
        b.screenshot("login");
        submit("karaf", "not-the-password");
        b.await("a wrong password refused", STEP, d -> b.text("login-error").equals("Wrong user or password."));
        assertFalse("no console without the password", b.driver.findElement(By.id("app")).isDisplayed());
        b.screenshot("login-refused");
        onlyLogged("/api/switch", "401");

        Matcher m = Pattern.compile("(?m)^karaf = (\\S+)$").matcher(Files.readString(
                kit.lab.work.resolve("sw/client/users.properties")));
        assertTrue("the switch's generated password", m.find());
        submit("karaf", m.group(1));
        b.await("the console after login, with the switch's public key", STEP,
                d -> d.findElement(By.id("app")).isDisplayed() && b.text("switch-key").equals(kit.switchKey));
        assertTrue(b.text("who"), b.text("who").contains("karaf"));
        assertEquals("the password is not left in the login form", "",
                b.driver.findElement(By.id("password")).getAttribute("value"));
        // opened on loopback, the page cannot know the address agents reach the switch at: a placeholder, not 127.0.0.1
        assertTrue("the join command: " + b.text("join-command"), b.text("join-command").startsWith(
                "sudo vl2-agent --switch SWITCH-ADDRESS --switch-key " + kit.switchKey + " --network "));
        b.driver.findElement(By.cssSelector("button[data-copy='join-command']")).click();
        String copied = b.await("the Copy button says what it did", STEP, d -> {
            String t = d.findElement(By.cssSelector("button[data-copy='join-command']")).getText();
            return t.equals("Copied") || t.equals("Selected: Ctrl-C") ? t : null;
        });
        results.put("console: Copy of the join command", copied);
    }

    private void submit(String user, String password) {
        WebElement u = b.driver.findElement(By.id("user"));
        u.clear();
        u.sendKeys(user);
        WebElement p = b.driver.findElement(By.id("password"));
        p.clear();
        p.sendKeys(password);
        b.driver.findElement(By.id("login-button")).click();
    }

    /** Selects the private network, sees p1 and p2 online and u1 waiting, clicks u1's Authorize, sees it online. */
    private void authorize() {
        b.await("network " + network + " in the list, selected", STEP, d -> {
            d.findElement(By.cssSelector("#network-rows tr[data-network='" + network + "']")).click();
            return b.text("members-network").equals(network);
        });
        b.await("p1 and p2 online, u1 waiting", STEP, d -> state("p1").equals("online")
                && state("p2").equals("online") && state("u1").equals("waiting"));
        b.screenshot("members-u1-waiting");
        b.await("u1's Authorize button clicked", STEP, d -> {
            row("u1").findElement(By.cssSelector("button.authorize")).click();
            return true;
        });
        long t0 = System.nanoTime();
        b.await("u1 online after Authorize", STEP, d -> state("u1").equals("online"));
        results.put("console: Authorize clicked -> u1 shown online", (System.nanoTime() - t0) / 1_000_000 + " ms");
        b.screenshot("members-u1-online");
    }

    /** A ping from u1 to p1 runs: the switch's frame counters grow, u1's port shows frames/s and bytes/s. */
    private void countersMove(String u1, String p1) {
        // read once the switch line shows the counter (-1 before that would make any later value "grown")
        long before = b.await("the switch's frames in counter shown", STEP, d -> {
            long n = framesIn();
            return n >= 0 ? n : null;
        });
        Bg pinger = kit.lab.start("console-ping", null, Lab.netnsExec(ns.get("u1"), "ping", "-i", "0.1", "-c", "600",
                "-W", "1", p1));
        try {
            String remote = underlay("u1") + ":";
            String fps = b.await("u1's port (remote " + remote + ", address " + u1 + ") with RX frames/s > 0", STEP,
                    d -> {
                        WebElement row = d.findElement(By.xpath("//tbody[@id='port-rows']/tr[td[contains(., '"
                                + remote + "')]]"));
                        String rate = row.findElement(By.cssSelector("td.rx-fps")).getText();
                        return row.getText().contains(u1) && Double.parseDouble(rate) > 0 ? rate : null;
                    });
            b.await("u1's traffic chart drawn", STEP, d -> Boolean.TRUE.equals(b.script("const row = [...document"
                    + ".querySelectorAll('#port-rows tr')].find(r => r.textContent.includes(arguments[0]));"
                    + "if (!row) return false; const c = row.querySelector('canvas');"
                    + "return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3"
                    + " && v > 0);", remote)));
            long after = b.await("the switch's frames in counter grows", STEP, d -> {
                long n = framesIn();
                return n > before ? n : null;
            });
            results.put("console: during a ping u1 -> p1 (10/s)", "u1's port " + fps + " RX frames/s; switch frames in "
                    + before + " -> " + after);
            b.screenshot("ports-counters-moving");
        } finally {
            pinger.stop(Duration.ofSeconds(5));
        }
    }

    /** The switch's received frames as the console's switch line shows them. */
    private long framesIn() {
        Matcher m = Pattern.compile("(\\d+) frames in").matcher(b.text("switch-counters"));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** A bad MAC is refused with the API's error naming the field; u1's MAC gives one entry, on u1's port. */
    private void macSearch() {
        searchMac("02:00:zz");
        b.await("a bad MAC refused, naming the field", STEP, d -> b.text("error").endsWith("(mac)"));
        b.screenshot("mactable-bad-mac");
        onlyLogged("/api/mactable?", "400");
        String mac = LabKit.mac(ns.get("u1"), "vl2tap0");
        searchMac(mac);
        b.await("u1's MAC " + mac + " found in the MAC table", STEP, d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#mac-rows tr"));
            return rows.size() == 1 && rows.get(0).getText().contains(mac) ? rows : null;
        });
        assertEquals("1-1 of 1", b.text("mac-page"));
        assertEquals("the error went with the next search", "", b.text("error"));
        b.screenshot("mactable-search");
    }

    /**
     * The browser logs each failed request as an error: after a step that provoked one, only that request (its path
     * and status) may be in its console; everything else logged fails the test (the rest of the walk logs nothing).
     */
    private void onlyLogged(String path, String status) {
        for (String message : b.severeMessages()) {
            assertTrue("only the expected failed request (" + path + ", " + status + ") in the browser's console: "
                    + message, message.contains(path) && message.contains(" " + status + " "));
        }
    }

    private void searchMac(String mac) {
        WebElement field = b.driver.findElement(By.id("mac-filter"));
        field.clear();
        field.sendKeys(mac);
        b.driver.findElement(By.cssSelector("#mac-form button[type='submit']")).click();
    }

    /**
     * Deauthorize u1 from the console (confirmed in the browser's dialog): it is cut off and, refused at its next
     * attempt, waiting again.
     */
    private void deauthorize() {
        row("u1").findElement(By.cssSelector("button.deauthorize")).click();
        Alert confirm = b.await("a dialog to confirm the deauthorization", STEP, ExpectedConditions.alertIsPresent());
        assertTrue(confirm.getText(), confirm.getText().contains("cut off at once"));
        confirm.accept();
        b.await("u1 waiting again after Deauthorize", STEP, d -> state("u1").equals("waiting"));
        b.screenshot("members-u1-deauthorized");
    }

    /** Log out: the login form again, empty, also after a reload (nothing kept in the tab). */
    private void logOut() {
        b.driver.findElement(By.id("logout")).click();
        b.await("the login form after Log out", STEP, d -> d.findElement(By.id("login-form")).isDisplayed()
                && !d.findElement(By.id("app")).isDisplayed());
        assertEquals("", b.driver.findElement(By.id("password")).getAttribute("value"));
        b.driver.navigate().refresh();
        b.await("the login form after a reload", STEP, d -> d.findElement(By.id("login-form")).isDisplayed()
                && !d.findElement(By.id("app")).isDisplayed());
    }

    /** The member row of {@code host}'s agent (by its public key). */
    private WebElement row(String host) {
        return b.driver.findElement(By.xpath("//tbody[@id='member-rows']/tr[td[text()='" + keys.get(host) + "']]"));
    }

    /** The state the console shows for {@code host}'s agent. */
    private String state(String host) {
        return row(host).findElement(By.cssSelector("td[class^='state-']")).getText();
    }

    /** {@code host}'s underlay address (eth0 in its namespace). */
    private String underlay(String host) {
        Matcher m = Pattern.compile("inet (\\d+\\.\\d+\\.\\d+\\.\\d+)/").matcher(Lab.in(ns.get(host), LabKit.CMD, "ip",
                "-o", "-4", "addr", "show", "dev", "eth0").out());
        assertTrue(host + " has an underlay address", m.find());
        return m.group(1);
    }
}
