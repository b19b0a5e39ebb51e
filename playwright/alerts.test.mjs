// Opens the alert page in headless Chromium as a protection officer would:
// after `vitalcore warnings run`, the early warnings are listed above the
// community alerts, and acknowledging one with its button records who did it.
// At headquarters with a field office, the page says how fresh each area's
// data is, for sighted and screen-reader users alike (axe-core).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axeProblems, launch, login, PASSWORD, serve, vitalcore } from "./lib.mjs";

const FIXTURES = "../crates/import/tests/fixtures";

// The CAR fixture, six community reports in Ouham (CF32) in its last month
// (a burst), forecasts with a low threshold, and an analyst.
function prepare() {
  const db = join(mkdtempSync(join(tmpdir(), "vitalcore-pw-alerts-")), "t.db");
  vitalcore(db, ["import", join(FIXTURES, "ucdp_ged_car.geojson"), join(FIXTURES, "caf_adm1_simplified.geojson")]);
  for (let i = 0; i < 6; i++) {
    vitalcore(db, ["report", "submit", "--text", `Armed men attacked the village, houses burned (${i})`, "--area", "CF32",
      "--category", "attack", "--event-time", "2022-12-10"]);
  }
  vitalcore(db, ["warnings", "run", "--samples", "200", "--skill-origins", "0", "--p-any", "0.005", "--p-ge", "25:1.0"]);
  vitalcore(db, ["users", "add", "ana", "--role", "analyst", "--password-stdin"], `${PASSWORD}\n`);
  return db;
}

test("an analyst sees the early warnings on the alert page and acknowledges one", async () => {
  const db = prepare();
  const open = JSON.parse(vitalcore(db, ["warnings", "list", "--open", "--format", "json"]));
  const burst = open.find((w) => w.kind === "report-burst" && w.unit === "CF32");
  assert.ok(burst, "the reports in Ouham raised a burst warning");
  const { child, url } = await serve(db);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await login(page, url, "ana");
    await page.waitForURL(`${url}/alerts`);
    assert.equal(await page.locator("tr.ew").count(), open.length, "one row per open warning");
    const row = page.locator(`#warning-${burst.id}`);
    assert.match(await row.textContent(), /Report burst.*CF32.*Ouham.*2022-12.*6 reports/s);

    await row.getByRole("button", { name: "Acknowledge" }).click();
    await page.waitForURL(`${url}/alerts#warning-${burst.id}`);
    const after = page.locator(`#warning-${burst.id}`);
    assert.match(await after.textContent(), /acknowledged\s*by ana/);
    assert.equal(await after.getByRole("button", { name: "Acknowledge" }).count(), 0);
    const acked = JSON.parse(vitalcore(db, ["warnings", "list", "--status", "acknowledged", "--format", "json"]));
    assert.deepEqual(acked.map((w) => [w.id, w.status_by]), [[burst.id, "ana"]]);
    assert.deepEqual(outside, [], "the page must load nothing from outside");
  } finally {
    await browser.close();
    child.kill();
  }
});

test("at headquarters the alert page says when each office's areas were last synchronised", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vitalcore-pw-fresh-"));
  const hq = join(dir, "hq.db");
  vitalcore(hq, ["import", join(FIXTURES, "caf_adm1_simplified.geojson")]);
  vitalcore(hq, ["users", "add", "ana", "--role", "analyst", "--password-stdin"], `${PASSWORD}\n`);
  for (const [name, area] of [["bambari", "CF32"], ["bria", "CF41"]]) {
    vitalcore(hq, ["sync", "office", "add", name, "--areas", area, "--out", join(dir, `${name}.cred`)]);
  }
  const { child, url } = await serve(hq);
  const browser = await launch();
  try {
    // bambari synchronises; bria never has.
    vitalcore(join(dir, "bambari.db"), ["sync", "--hq", url, "--credential", join(dir, "bambari.cred")]);
    const page = await browser.newPage();
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await login(page, url, "ana");
    await page.waitForURL(`${url}/alerts`);
    const table = page.getByRole("table", { name: "When each area's data last came from the node that holds it" });
    const bambari = table.getByRole("row", { name: /bambari/ });
    assert.match(await bambari.textContent(), /CF32\s*bambari\s*updated \d+ min ago/);
    assert.match(await bambari.locator("time").getAttribute("datetime"), /^\d{4}-\d\d-\d\dT/);
    assert.match(await bambari.locator(".vh").textContent(), /^updated \d+ minutes? ago, at \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    const bria = table.getByRole("row", { name: /bria/ });
    assert.match(await bria.textContent(), /CF41\s*bria\s*never synchronised/);
    assert.deepEqual(await axeProblems(page), [], "the freshness table passes axe-core");
    assert.deepEqual(outside, [], "the page must load nothing from outside");
  } finally {
    await browser.close();
    child.kill();
  }
});
