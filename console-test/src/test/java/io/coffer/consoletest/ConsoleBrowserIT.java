package io.coffer.consoletest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in headless Chromium against a running node: sign in, search, open a variable, reveal it, find that
 * fetch in the audit view, the cluster page; DOM assertions throughout and a screenshot of each page.
 */
public class ConsoleBrowserIT {
    private static ChromeDriver driver;
    private static WebDriverWait wait;
    private static Path shots;
    private static Path home;

    @BeforeClass
    public static void browser() throws Exception {
        shots = Path.of(System.getProperty("coffer.console.screenshots", "target/screenshots")).toAbsolutePath();
        Files.createDirectories(shots);
        home = Files.createTempDirectory("coffer-console-browser");
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + home.resolve("profile"));
        // Chromium on Linux trusts what the NSS database under $HOME/.pki/nssdb holds: the node's cluster CA goes
        // there (certutil, from libnss3-tools), so TLS is verified for real. Only without certutil does the test fall
        // back to --ignore-certificate-errors, and says so.
        Map<String, String> env = Map.of("HOME", home.toString());
        if (!trustCa(home)) {
            System.err.println("console test: certutil is missing; Chromium ignores certificate errors this run");
            options.addArguments("--ignore-certificate-errors");
        }
        // The driver is named explicitly, so Selenium Manager never looks for one on the network.
        System.setProperty("webdriver.chrome.driver", "/usr/bin/chromedriver");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort()
                .withEnvironment(env).build();
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(20));
        wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
        System.out.println("console test: screenshots in " + shots);
    }

    private static boolean trustCa(Path home) throws IOException, InterruptedException {
        Path db = home.resolve(".pki/nssdb");
        Files.createDirectories(db);
        try {
            return run("certutil", "-N", "-d", "sql:" + db, "--empty-password")
                    && run("certutil", "-A", "-d", "sql:" + db, "-n", "coffer-cluster-ca", "-t", "C,,", "-i", Node.CA);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        boolean ok = p.waitFor() == 0;
        if (!ok) {
            System.err.println(String.join(" ", cmd) + ": " + out);
        }
        return ok;
    }

    @AfterClass
    public static void close() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (home != null) {
            try (var files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @Test
    public void signInSearchRevealAuditCluster() throws Exception {
        String prefix = Node.ROLE + "-";
        driver.get(Node.URL + "/ui/");
        WebElement form = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-test=sign-in]")));
        form.findElement(By.name("account")).clear();
        form.findElement(By.name("account")).sendKeys(Node.ACCOUNT);
        form.findElement(By.name("login")).sendKeys(Node.LOGIN);
        form.findElement(By.name("secret")).sendKeys(Node.API_KEY);
        shot(prefix + "01-sign-in");
        form.findElement(By.cssSelector("button[type=submit]")).click();
        WebElement user = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-test=user]")));
        assertEquals(Node.ACCOUNT + ":user:" + Node.LOGIN, user.getText());
        assertEquals(Node.NODE_NAME + " · " + Node.ROLE, text("[data-test=node]"));
        assertEquals("the read-only badge shows on a Follower only", Node.ROLE.equals("follower"),
                !driver.findElements(By.cssSelector("[data-test=read-only]")).isEmpty());

        // Search variables: the two test variables are found, and the hostile id is text, not markup.
        new Select(wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("[data-test=kind]"))))
                .selectByValue("variable");
        driver.findElement(By.cssSelector("[data-test=search]")).sendKeys(Node.SEARCH);
        driver.findElement(By.cssSelector("[data-test=search-go]")).click();
        wait.until(d -> d.getCurrentUrl().contains("search=" + Node.SEARCH));
        WebElement results = wait.until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("[data-test=results]")));
        assertTrue("the variable is listed", linkTo(results, Node.VARIABLE) != null);
        WebElement hostile = linkTo(results, Node.HOSTILE);
        assertTrue("the hostile id is listed", hostile != null);
        assertEquals("the hostile id shows as its characters", Node.HOSTILE, hostile.getText());
        assertTrue("no element was made from it", driver.findElements(By.cssSelector("main img")).isEmpty());
        assertEquals("every row's kind is variable", List.of("variable"), results.findElements(
                By.cssSelector("tbody td:nth-child(2)")).stream().map(WebElement::getText).distinct()
                .collect(java.util.stream.Collectors.toList()));
        shot(prefix + "02-search");

        // The variable's page, and its value revealed.
        linkTo(results, Node.VARIABLE).click();
        wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-test=resource-id]"), Node.VARIABLE));
        assertTrue("versions are listed", !driver.findElements(By.cssSelector("[data-test=versions] tbody tr")).isEmpty());
        assertTrue("the owner is shown", !text("[data-test=owner]").isEmpty());
        assertEquals("a write is offered on the Leader only", Node.ROLE.equals("leader"),
                !driver.findElements(By.cssSelector("[data-test=save-value]")).isEmpty());
        wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("[data-test=reveal]"))).click();
        WebElement value = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-test=value]")));
        assertEquals(Node.VALUE, value.getText());
        shot(prefix + "03-variable-revealed");

        // The reveal in the audit view: a successful fetch of that variable.
        driver.findElement(By.cssSelector("[data-test=nav-audit]")).click();
        WebElement resource = wait.until(ExpectedConditions.visibilityOfElementLocated(
                By.cssSelector("[data-test=audit-resource]")));
        resource.sendKeys(Node.VARIABLE);
        new Select(driver.findElement(By.cssSelector("[data-test=audit-action]"))).selectByValue("fetch");
        // A replica's events reach its table through the Leader: filter again until the row is there.
        WebElement row = new WebDriverWait(driver, Duration.ofSeconds(30), Duration.ofSeconds(2))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector("[data-test=audit-go]")).click();
            return d.findElements(By.cssSelector("[data-test=audit-rows] tbody tr")).stream()
                    .filter(r -> cells(r).get(1).equals("fetch") && cells(r).get(4).equals(Node.VARIABLE)
                            && cells(r).get(2).equals("success")
                            && cells(r).get(3).equals(Node.ACCOUNT + ":user:" + Node.LOGIN))
                    .findFirst().orElse(null);
        });
        assertTrue("the fetch's client address is recorded", !cells(row).get(5).isEmpty());
        shot(prefix + "04-audit");

        // The cluster page: this node's row and role; the lag chart is drawn.
        driver.findElement(By.cssSelector("[data-test=nav-cluster]")).click();
        WebElement self = wait.until(d -> d.findElements(By.cssSelector("[data-test=nodes] tbody tr")).stream()
                .filter(r -> cells(r).get(0).equals(Node.NODE_NAME + " (this node)")).findFirst().orElse(null));
        assertEquals(Node.ROLE, cells(self).get(1));
        assertEquals("healthy", cells(self).get(2));
        // Sampled every 3 s: the line appears with the second sample.
        wait.until(d -> d.findElements(By.cssSelector("[data-test=lag-chart] polyline")).stream()
                .anyMatch(p -> p.getAttribute("points").trim().contains(" ")));
        assertEquals("unlocked", text("[data-test=keys]"));
        shot(prefix + "05-cluster");

        // Policy versions and a diff between the two newest.
        driver.get(Node.URL + "/ui/#/policy/" + java.net.URLEncoder.encode(Node.ACCOUNT + ":policy:root", "UTF-8"));
        WebElement diff = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-test=diff]")));
        assertTrue("the diff marks added lines", !diff.findElements(By.cssSelector(".add")).isEmpty());
        shot(prefix + "06-policy-diff");

        driver.findElement(By.cssSelector("[data-test=sign-out]")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-test=sign-in]")));
        assertTrue("signed out: no navigation", driver.findElements(By.cssSelector("[data-test=user]")).isEmpty());
    }

    private static WebElement linkTo(WebElement within, String id) {
        return within.findElements(By.cssSelector("a.id")).stream().filter(a -> id.equals(a.getAttribute("data-id")))
                .findFirst().orElse(null);
    }

    private static List<String> cells(WebElement row) {
        return row.findElements(By.tagName("td")).stream().map(WebElement::getText)
                .collect(java.util.stream.Collectors.toList());
    }

    private static String text(String css) {
        return driver.findElement(By.cssSelector(css)).getText();
    }

    private static void shot(String name) throws IOException {
        File f = driver.getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), shots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
