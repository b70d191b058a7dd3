package org.vl2.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.stream.Collectors;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium driven through WebDriver (Selenium, Debian's {@code chromium} and {@code chromium-driver}),
 * for the web console's end-to-end test. The browser runs inside a lab namespace (the switch's), so it opens the
 * console on that namespace's loopback, where the switch serves it by default: chromedriver starts in the test's
 * namespace and launches Chromium through a wrapper ({@code ip netns exec NS chromium ...}); they talk over
 * {@code --remote-debugging-pipe} (inherited file descriptors), since no TCP port of one namespace is reachable
 * from the other. Nothing is downloaded: without chromedriver the test is skipped ({@link #whyNot}).
 *
 * <p>Screenshots go to {@code <vl2.e2e.workDir>/console-screenshots/NN-name.png} (emptied when a browser opens),
 * kept as the test's artifacts; {@link #diagnostics} adds the page's text and its console messages.
 */
final class ConsoleBrowser implements AutoCloseable {

    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String CHROMIUM = "/usr/bin/chromium";
    /**
     * Selenium warns when no CDP (DevTools) binding matches the browser's version; the test uses WebDriver only, and
     * Debian's Chromium moves on by itself: quiet (held here, or java.util.logging may drop the setting).
     */
    private static final java.util.logging.Logger CDP_LOG = quiet("org.openqa.selenium.devtools");

    final WebDriver driver;
    private final ChromeDriverService service;
    private final Path shots;
    private int shot;

    private static java.util.logging.Logger quiet(String name) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(name);
        log.setLevel(Level.SEVERE);
        return log;
    }

    /** Why no browser test can run here (no chromium or chromium-driver), or null. */
    static String whyNot() {
        for (String tool : List.of(CHROMEDRIVER, CHROMIUM)) {
            if (!Files.isExecutable(Path.of(tool))) {
                return tool + " is missing (Debian: apt-get install chromium chromium-driver)";
            }
        }
        return null;
    }

    /** A browser in namespace {@code ns}; its profile and wrapper under {@code work}. */
    ConsoleBrowser(String ns, Path work) throws IOException {
        Path home = work.resolve("browser");
        Files.createDirectories(home);
        Path wrapper = home.resolve("chromium-in-namespace");
        Files.writeString(wrapper, "#!/bin/sh\nexec ip netns exec " + ns + " " + CHROMIUM + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        shots = Path.of(System.getProperty("vl2.e2e.workDir", "target/e2e")).toAbsolutePath()
                .resolve("console-screenshots");
        Lab.deleteTree(shots);
        Files.createDirectories(shots);

        ChromeOptions options = new ChromeOptions();
        options.setBinary(wrapper.toString());
        options.addArguments("--headless=new", "--no-sandbox", "--remote-debugging-pipe", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--window-size=1400,1100",
                "--user-data-dir=" + home.resolve("profile"));
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        service = new ChromeDriverService.Builder().usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
                .usingAnyFreePort().withLogFile(home.resolve("chromedriver.log").toFile()).build();
        try {
            driver = new ChromeDriver(service, options);
        } catch (WebDriverException e) {
            service.stop();
            throw e;
        }
    }

    void open(String url) {
        driver.get(url);
    }

    /** Saves a screenshot of the page as {@code NN-name.png}; its path. */
    Path screenshot(String name) {
        try {
            Path file = shots.resolve(String.format("%02d-%s.png", ++shot, name));
            Path png = ((ChromeDriver) driver).getScreenshotAs(OutputType.FILE).toPath();
            Files.move(png, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits up to {@code timeout} until {@code condition} gives a value that is not null or false, and returns
     * it; the console redraws its tables every 2 s, so elements going stale or missing meanwhile only mean "not
     * yet". On timeout: an AssertionError naming {@code what}, with a screenshot.
     */
    <T> T await(String what, Duration timeout, Function<WebDriver, T> condition) {
        WebDriverWait wait = new WebDriverWait(driver, timeout, Duration.ofMillis(250));
        wait.ignoring(StaleElementReferenceException.class).ignoring(NoSuchElementException.class);
        try {
            return wait.until(condition);
        } catch (TimeoutException e) {
            Path file = screenshot("timeout");
            throw new AssertionError("console: " + what + " (not within " + timeout.toSeconds() + " s; screenshot "
                    + file + ")\n" + diagnostics(), e);
        }
    }

    /** The text of the element with this id ("" when it has none). */
    String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    /** Runs a script in the page; what it returns. */
    Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /** The page's visible text and the browser's console messages, for a failure's message. */
    String diagnostics() {
        StringBuilder b = new StringBuilder("--- page ").append(driver.getCurrentUrl()).append(" ---\n");
        try {
            b.append(driver.findElement(By.tagName("body")).getText()).append('\n');
            b.append("--- browser console ---\n").append(driver.manage().logs().get(LogType.BROWSER).getAll()
                    .stream().map(LogEntry::toString).collect(Collectors.joining("\n")));
        } catch (WebDriverException e) {
            b.append("(not readable: ").append(e.getMessage()).append(")");
        }
        return b.toString();
    }

    /** The browser's console messages of level SEVERE (JavaScript errors, failed requests) since the last call. */
    List<String> severeMessages() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::toString).toList();
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } catch (WebDriverException e) {
            System.err.println("[e2e] browser did not quit cleanly: " + e.getMessage());
        } finally {
            service.stop();
        }
    }
}
