// Opens the dashboard and the situation-report page in headless Chromium as
// an analyst on the demo data (UCDP GED, Central African Republic) with a
// few community reports and a forecast run: checks that every section is
// there, that nothing is requested from outside, that a 390-pixel phone
// needs no horizontal scrolling, and takes the screenshots the README shows
// (docs/dashboard.png, docs/sitrep.png, written there only with
// VITALCORE_DOCS=../docs; otherwise into a temporary folder).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ENV, launch, login, PASSWORD, serve, vitalcore } from "./lib.mjs";

const DOCS = process.env.VITALCORE_DOCS || join(tmpdir(), "vitalcore-docs");

// The demo data, six reports in Ouham-Pendé in its last month, forecasts, an analyst.
function prepare() {
  const db = join(mkdtempSync(join(tmpdir(), "vitalcore-pw-briefings-")), "demo.db");
  const r = spawnSync(BIN, ["demo", "--no-serve", "--demo-db", db], { encoding: "utf8", env: ENV });
  assert.equal(r.status, 0, r.stderr);
  for (let i = 0; i < 6; i++) {
    vitalcore(db, ["report", "submit", "--text", `Armed men attacked the village, houses burned (${i})`, "--area", "CF32",
      "--category", "attack", "--event-time", "2022-12-10"]);
  }
  vitalcore(db, ["warnings", "run", "--samples", "200", "--skill-origins", "3", "--p-any", "0.3"]);
  vitalcore(db, ["users", "add", "ana", "--role", "analyst", "--password-stdin"], `${PASSWORD}\n`);
  return db;
}

test("an analyst reads the dashboard and a situation report, offline, on a laptop and a phone", async () => {
  const db = prepare();
  const { child, url } = await serve(db);
  const browser = await launch();
  mkdirSync(DOCS, { recursive: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("about:")) outside.push(r.url()); });
    await login(page, url, "ana");
    await page.waitForURL(`${url}/alerts`);

    await page.goto(`${url}/dashboard?from=2022-01&to=2022-12`);
    assert.equal(await page.locator("h1").textContent(), "Dashboard: 2022-01 to 2022-12");
    for (const h of ["Map and most threatened areas", "Priority threats", "Trends by dimension and theme",
      "Early warnings and what followed", "Alerts and responses", "How far to trust the outlook", "Data sources and caveats"]) {
      assert.equal(await page.getByRole("heading", { name: h }).count(), 1, h);
    }
    assert.equal(await page.locator(".summary p").count(), 3, "the period in three sentences");
    assert.ok(await page.locator(".grid svg.chart").count() >= 3, "small multiples");
    await page.screenshot({ path: join(DOCS, "dashboard.png"), fullPage: false });

    // One area, chosen with the form.
    await page.selectOption("#area", "CF32");
    await page.click(".pick button[type=submit]");
    await page.waitForURL(/area=CF32/);
    assert.match(await page.locator(".summary").textContent(), /Ouham/);

    // The sitrep page: the form, then the HTML report as a person opens it.
    await page.goto(`${url}/sitrep?from=2022-01&to=2022-12`);
    assert.equal(await page.getByRole("button", { name: "Download PDF" }).count(), 1);
    const pdf = await page.request.get(`${url}/sitrep?from=2022-01&to=2022-12&format=pdf`);
    assert.equal(pdf.headers()["content-type"], "application/pdf");
    const report = await page.request.get(`${url}/sitrep?from=2022-01&to=2022-12&audience=public&format=html`);
    const html = await report.text();
    assert.ok(!/https?:\/\//.test(html), "the report file loads nothing");
    const file = await context.newPage();
    file.on("request", (r) => { if (!r.url().startsWith("about:") && !r.url().startsWith("data:")) outside.push(r.url()); });
    await file.setContent(html);
    assert.match(await file.locator("h1").textContent(), /Situation report: all areas, 2022-01 to 2022-12/);
    await file.screenshot({ path: join(DOCS, "sitrep.png"), fullPage: false });

    // A phone: no horizontal scrolling.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const small = await phone.newPage();
    await login(small, url, "ana");
    await small.waitForURL(`${url}/alerts`);
    for (const path of ["/dashboard?from=2022-01&to=2022-12", "/sitrep"]) {
      await small.goto(`${url}${path}`);
      const width = await small.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${path} is ${width} px wide on a 390 px phone`);
    }
    // A page of its own (about:blank): the server's CSP would block the file's inline style.
    const opened = await phone.newPage();
    await opened.setContent(html);
    const width = await opened.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the report file is ${width} px wide on a 390 px phone`);
    assert.deepEqual(outside, [], "nothing is requested from outside");
  } finally {
    await browser.close();
    child.kill();
  }
});
