// The mandates page driven in headless Chromium as an analyst would, on data
// set up from committed fixtures: the synthetic Ebola indicator table
// (crates/cli/tests/fixtures) and Security Council resolutions cut from the
// UN corpus (crates/mandate/tests/fixtures/akn), imported with `vitalcore
// mandate import` (the server is started without --mandates: it reads the
// database). Picks UNMIL, reads the timeline and the dimensions x
// resolutions table, sees health named as an uncovered priority threat in
// August, September and October 2014, opens a resolution and sees its
// operative verbs and tasks marked; axe-core on each view; nothing loaded
// from outside; a 390-pixel phone needs no sideways scrolling. Takes the
// screenshot the README shows (docs/mandates.png).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axeProblems, launch, login, PASSWORD, serve, vitalcore } from "./lib.mjs";

const EBOLA = "../crates/cli/tests/fixtures/ebola_2014_synthetic.csv";
const AKN = "../crates/mandate/tests/fixtures/akn";

function prepare() {
  const db = join(mkdtempSync(join(tmpdir(), "vitalcore-pw-mandates-")), "m.db");
  vitalcore(db, ["import", EBOLA]);
  const first = vitalcore(db, ["--quiet", "mandate", "import", AKN, "--by", "pw"]);
  assert.match(first, /8 new, 0 replaced, 0 unchanged/);
  assert.match(vitalcore(db, ["--quiet", "mandate", "import", AKN]), /0 new, 0 replaced, 8 unchanged/);
  vitalcore(db, ["users", "add", "ana", "--role", "analyst", "--password-stdin"], `${PASSWORD}\n`);
  return db;
}

test("an analyst picks UNMIL, reads its mandate against the 2014 Ebola threat and a resolution's tagged text", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  const outside = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    const page = await context.newPage();
    await login(page, url, "ana");

    // From the navigation to the page, then the mission picked with the form.
    await page.getByRole("link", { name: "Mandates" }).click();
    await page.waitForURL(`${url}/mandates`);
    assert.deepEqual(await axeProblems(page), [], "/mandates");
    await page.selectOption("#mission", "UNMIL");
    await page.fill("#month", "2014-08");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/mission=UNMIL/);
    assert.equal(await page.locator("h1").textContent(), "Mandates: UNMIL");

    // The timeline: the resolutions that mandated UNMIL, not MINUSMA's 2164.
    const timeline = page.locator("ol.timeline > li");
    assert.equal(await timeline.count(), 2);
    assert.match(await timeline.nth(0).textContent(), /S\/RES\/2116 \(2013\), 2013-09-18/);
    assert.match(await timeline.nth(1).textContent(), /S\/RES\/2176 \(2014\), 2014-09-15: extends or adds/);

    // The matrix: a table with column and row headers, words in its cells.
    const matrix = page.getByRole("table", { name: /Each human-security dimension after each resolution/ });
    assert.deepEqual(await matrix.locator("thead th").allTextContents(), ["Dimension", "S/RES/2116 (2013)", "S/RES/2176 (2014)"]);
    const health = matrix.getByRole("row", { name: /^health/ });
    assert.deepEqual(await health.locator("td").allTextContents(), ["not covered", "not covered"]);
    const personal = matrix.getByRole("row", { name: /^personal/ });
    assert.deepEqual(await personal.locator("td").allTextContents(), ["added", "in force"]);

    // Health is a priority threat no task covers, month after month in 2014.
    for (const [month, inForce] of [["2014-08", "S/RES/2116 (2013)"], ["2014-09", "S/RES/2176 (2014)"], ["2014-10", "S/RES/2176 (2014)"]]) {
      await page.fill("#month", month);
      await page.getByRole("button", { name: "Show" }).click();
      await page.waitForURL(new RegExp(`month=${month}`));
      assert.match(await page.locator("#gaps + p").textContent(), new RegExp(`Mandate in force: ${inForce.replace(/[()/]/g, "\\$&")}`), month);
      const uncovered = page.getByRole("region", { name: "Priority threats no task covers" });
      const items = await uncovered.locator("li").allTextContents();
      assert.equal(items.length, 1, `${month}: ${items}`);
      assert.match(items[0], /^health \(dimension\): first covered later by S\/RES\/2177 \(2014\)/, month);
      const row = page.getByRole("table", { name: /Threats observed that month/ }).getByRole("row", { name: /health/ });
      assert.deepEqual((await row.locator("td").allTextContents()).slice(0, 2), ["yes", "no"], `${month}: priority, not covered`);
    }
    assert.deepEqual(await axeProblems(page), [], "/mandates with a mission and a month");
    await page.goto(`${url}/mandates?mission=UNMIL&month=2014-08#coverage`);
    await page.screenshot({ path: "../docs/mandates.png", fullPage: false });

    // A resolution's text, opened from the timeline: verbs and tasks marked.
    await page.getByRole("link", { name: "S/RES/2116 (2013)" }).click();
    await page.waitForURL(/resolution=2116/);
    assert.equal(await page.locator("#text").textContent(), "S/RES/2116 (2013), 2013-09-18");
    assert.ok(await page.locator("ol.resolution mark.verb", { hasText: "Decides" }).count() >= 1, "an operative verb marked");
    const tagged = page.locator("ol.resolution li", { has: page.locator("mark.task", { hasText: "security sector reform" }) });
    assert.ok(await tagged.count() >= 1, "a paragraph with its task marked");
    assert.match(await tagged.first().textContent(), /Tasks \(\w+\):/);
    assert.match(await page.locator("#text + p").textContent(), /imported .* by pw/, "provenance");
    assert.deepEqual(await axeProblems(page), [], "/mandates with a resolution");

    // MINUSMA's 2100: the mandate's points, nested, each with its tasks.
    await page.goto(`${url}/mandates?mission=MINUSMA&resolution=2100#text`);
    assert.ok(await page.locator("ol.resolution li.depth-1 mark.task", { hasText: "protection of civilians" }).count() >= 1);

    // A phone: no sideways scrolling of the page (the matrix scrolls in its box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/mandates?mission=UNMIL&month=2014-08&resolution=2116`);
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(widths[0] <= widths[1], `the page scrolls sideways at 390 px: ${widths}`);
    assert.deepEqual(outside, [], "nothing loaded from outside");
  } finally {
    await browser.close();
    child.kill();
  }
});
