// Every page of the web application in headless Chromium, as an analyst, a
// focal point, a viewer and an admin: axe-core finds no serious or critical
// accessibility violation, a 390-pixel-wide phone shows the page without
// horizontal scrolling, no request leaves this computer, and the pages are
// usable with the keyboard. Screenshots go to a temporary folder, or to
// docs/screenshots/ with VITALCORE_DOCS=../docs (so a test run leaves the tree clean).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axeProblems, launch, login, PASSWORD, serve, vitalcore } from "./lib.mjs";

const FIXTURES = "../crates/import/tests/fixtures";
const DOCS = process.env.VITALCORE_DOCS || join(tmpdir(), "vitalcore-docs");
const SHOTS = join(DOCS, "screenshots");

// The CAR fixture, community reports in Ouham (CF32) and Bamingui-Bangoran,
// forecasts and early warnings, and one account per role.
function prepare() {
  const db = join(mkdtempSync(join(tmpdir(), "vitalcore-pw-pages-")), "t.db");
  vitalcore(db, ["import", join(FIXTURES, "ucdp_ged_car.geojson"), join(FIXTURES, "caf_adm1_simplified.geojson")]);
  for (let i = 0; i < 6; i++) {
    vitalcore(db, ["report", "submit", "--text", `Armed men attacked the village, houses burned (${i})`, "--area", "CF32",
      "--category", "attack", "--event-time", "2022-12-10"]);
  }
  vitalcore(db, ["warnings", "run", "--samples", "200", "--skill-origins", "0", "--p-any", "0.005", "--p-ge", "25:1.0"]);
  for (const [name, role, community] of [["ana", "analyst"], ["fatou", "focal-point", "CF32"], ["victor", "viewer"], ["ada", "admin"]]) {
    vitalcore(db, ["users", "add", name, "--role", role, ...(community ? ["--community", community] : []), "--password-stdin"], `${PASSWORD}\n`);
  }
  return db;
}

async function ready(page, path) {
  if (path === "/" || path.startsWith("/?")) {
    await page.waitForFunction(() => document.querySelectorAll("#map path").length === 17, null, { timeout: 20000 });
    await page.waitForFunction(() => document.querySelectorAll("#area-table tbody tr").length === 17);
  }
}

// Each role's pages; an admin's include the administration.
const PAGES = {
  analyst: ["/", "/alerts", "/report", "/dashboard", "/sitrep", "/mandates"],
  "focal point": ["/", "/alerts", "/report", "/dashboard", "/sitrep", "/mandates"],
  viewer: ["/", "/report", "/dashboard", "/sitrep", "/mandates"],
  admin: ["/admin", "/admin/users/ana", "/admin/oncall"],
};
const USERS = { analyst: "ana", "focal point": "fatou", viewer: "victor", admin: "ada" };
const shotName = (role, path) => `${role.replace(" ", "-")}${path === "/" ? "-map" : path.replaceAll("/", "-")}.png`;

test("every page passes axe-core, fits a 390-pixel phone and loads nothing from outside, for each role", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  mkdirSync(SHOTS, { recursive: true });
  const checked = [];
  try {
    // The pages anyone sees, before signing in.
    const anon = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const outside = [];
    anon.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    const page = await anon.newPage();
    for (const path of ["/login", "/report", "/", "/no-such-page"]) {
      await page.goto(url + path);
      await ready(page, path);
      assert.deepEqual(await axeProblems(page), [], `${path} as nobody`);
      checked.push(`nobody ${path}`);
    }
    // A refused sign-in and a report form sent back with its errors.
    await page.goto(`${url}/login`);
    await page.fill("#u", "ana");
    await page.fill("#p", "not the password at all");
    await page.click("button[type=submit]");
    await page.waitForSelector("p.err");
    assert.deepEqual(await axeProblems(page), [], "a refused sign-in");
    await page.goto(`${url}/report`);
    await page.fill("#text", "Armed men came at night");
    await page.fill("#lat", "4.5");
    await page.click("button[type=submit]");
    await page.waitForSelector("div.err");
    assert.deepEqual(await axeProblems(page), [], "the report form with its errors");
    checked.push("nobody: refused sign-in, report form with errors");
    await anon.close();

    for (const [role, paths] of Object.entries(PAGES)) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      context.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
      const page = await context.newPage();
      await login(page, url, USERS[role]);
      for (const path of paths) {
        await page.setViewportSize({ width: 1280, height: 900 });
        // The dashboard and sitrep pages come from another branch: checked once they answer.
        if ((path === "/dashboard" || path === "/sitrep") && (await page.request.get(url + path)).status() === 404) {
          checked.push(`${role} ${path}: not served (404)`);
          continue;
        }
        const response = await page.goto(url + path);
        assert.equal(response.status(), 200, `${role} ${path}`);
        await ready(page, path);
        assert.deepEqual(await axeProblems(page), [], `${role} ${path}`);
        if (role === "analyst" || role === "admin" || path === "/") {
          await page.screenshot({ path: join(SHOTS, shotName(role, path)), fullPage: path.startsWith("/admin") });
        }
        await page.setViewportSize({ width: 390, height: 844 });
        await page.waitForTimeout(100);
        const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        assert.ok(widths[0] <= widths[1], `${role} ${path} scrolls sideways at 390 px: ${widths}`);
        if (role === "analyst" && path === "/") {
          await page.screenshot({ path: join(SHOTS, "analyst-map-phone.png") });
        }
        checked.push(`${role} ${path}`);
      }
      await context.close();
    }
    assert.deepEqual(outside, [], "the pages must load nothing from outside");
    console.log(`checked: ${checked.join("; ")}`);
  } finally {
    await browser.close();
    child.kill();
  }
});

test("the map by keyboard: areas named on it, a sortable table, a month slider, the view in the address", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await page.goto(url);
    await ready(page, "/");
    assert.equal(await page.locator("#map text").count(), 17, "every prefecture is named on the map");
    assert.match(await page.textContent("#map"), /Ouham/);

    // The first Tab reaches the skip link, which moves to the content.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.className), "skip");

    // Sort by fatalities (a heading button), most first; again, least first.
    const sortBy = page.locator("#area-table th button[data-sort=fatalities]");
    await sortBy.focus();
    await page.keyboard.press("Enter");
    assert.equal(await page.getAttribute("#area-table th:nth-child(3)", "aria-sort"), "descending");
    const deaths = async () => (await page.locator("#area-table tbody td:nth-child(3)").allTextContents()).map(Number);
    const most = await deaths();
    assert.deepEqual(most, [...most].sort((a, b) => b - a));
    await page.keyboard.press("Enter");
    assert.equal(await page.getAttribute("#area-table th:nth-child(3)", "aria-sort"), "ascending");
    assert.match(page.url(), /sort=fatalities(&|$)/);
    await page.keyboard.press("Enter");
    assert.match(page.url(), /sort=fatalities-(&|$)/);

    // An area's name is a button: Enter opens its profile.
    const first = page.locator("#area-table tbody tr button").first();
    const name = (await first.textContent()).trim();
    await first.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#profile h2");
    assert.ok((await page.textContent("#profile h2")).startsWith(name));
    await page.waitForSelector("#profile h3:has-text('Outlook')");
    assert.deepEqual(await axeProblems(page), [], "the map with an area's profile open");

    // The slider replays the period: one step right is the first month.
    await page.selectOption("#category", "protection_of_civilians");
    await page.waitForFunction(() => /category=protection_of_civilians/.test(location.search));
    await page.locator("#month").focus();
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => /month=\d{4}-\d{2}/.test(location.search));
    const month = new URL(page.url()).searchParams.get("month");
    assert.equal(await page.textContent("#month-label"), month);
    await page.waitForFunction((m) => document.querySelector("#status").textContent.includes(`${m} to ${m}`), month);

    // The address is the view: opened again, the same threat, month and area.
    const shared = page.url();
    const again = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    again.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await again.goto(shared);
    await ready(again, "/");
    assert.equal(await again.inputValue("#category"), "protection_of_civilians");
    await again.waitForFunction((m) => document.querySelector("#month-label").textContent === m, month);
    const area = new URL(shared).searchParams.get("area");
    assert.ok(area, "the selected area is in the address");
    assert.equal(new URL(again.url()).searchParams.get("area"), area);
    await again.waitForFunction(() => !document.getElementById("profile-hint"), null, { timeout: 10000 });

    // Play runs through the months until paused.
    await again.click("#play");
    assert.equal(await again.getAttribute("#play", "aria-pressed"), "true");
    await again.waitForFunction((m) => document.querySelector("#month-label").textContent > m, month, { timeout: 10000 });
    await again.click("#play");
    assert.equal(await again.getAttribute("#play", "aria-pressed"), "false");
    await again.screenshot({ path: join(SHOTS, "map-replay.png") });
    assert.deepEqual(outside, [], "the map loads nothing from outside");
  } finally {
    await browser.close();
    child.kill();
  }
});

test("the pages speak French when the user chooses it", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
    await login(page, url, "ana");
    await page.waitForURL(`${url}/alerts`);
    await page.getByRole("link", { name: "Français" }).click();
    await page.waitForURL(`${url}/alerts`);
    assert.equal(await page.getAttribute("html", "lang"), "fr");
    assert.equal(await page.textContent("h1"), "Alertes");
    await page.getByRole("link", { name: "Carte" }).click();
    await ready(page, "/");
    assert.match(await page.textContent("#status"), /17 zones/);
    assert.deepEqual(await axeProblems(page), [], "the French map");
    await page.screenshot({ path: join(SHOTS, "analyst-map-fr.png") });
    // The dashboard and the sitrep page in French: declared, spoken, accessible.
    for (const [path, heading] of [["/dashboard", /^Tableau de bord : /], ["/sitrep", /^Rapports de situation$/], ["/mandates", /^Mandats$/]]) {
      await page.goto(`${url}${path}`);
      assert.equal(await page.getAttribute("html", "lang"), "fr", path);
      assert.match(await page.textContent("h1"), heading);
      assert.deepEqual(await axeProblems(page), [], `the French ${path}`);
    }
    assert.equal(await page.getByRole("heading", { name: "Menaces prioritaires" }).count(), 0, "the sitrep form has no report sections");
    await page.goto(`${url}/dashboard`);
    assert.equal(await page.getByRole("heading", { name: "Menaces prioritaires" }).count(), 1);
    assert.equal(await page.getByRole("heading", { name: "Priority threats" }).count(), 0);
  } finally {
    await browser.close();
    child.kill();
  }
});

test("an admin puts someone on call on the administration page and sees the entry listed", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await login(page, url, "ada");
    await page.goto(`${url}/admin`);
    await page.click("a[href='/admin/oncall']");
    await page.fill("#oa", "CF32");
    await page.selectOption("#or", "analyst");
    await page.fill("#ou", "ana");
    await page.fill("#of", "2026-12-08T08:00");
    await page.fill("#ot", "2026-12-08T20:00");
    await page.click("form[action='/admin/oncall'] button[type=submit]");
    await page.waitForSelector("p.notice");
    assert.match(await page.textContent("p.notice"), /Rota entry \d+ added\./);
    const row = (await page.locator("table tbody tr").allTextContents()).join("\n");
    assert.match(row, /CF32\s*analyst\s*ana\s*2026-12-08 08:00\s*2026-12-08 20:00/);
    assert.deepEqual(await axeProblems(page), [], "the on-call page with its entry");
    // The same rota as the command line shows.
    assert.match(vitalcore(db, ["oncall", "show", "--format", "csv"]), /CF32,analyst,ana,2026-12-08T08:00:00Z,2026-12-08T20:00:00Z/);
  } finally {
    await browser.close();
    child.kill();
  }
});
