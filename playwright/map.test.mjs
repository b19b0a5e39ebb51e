// Opens the demo's web page in headless Chromium, as an analyst would:
// the map draws the 17 prefectures, a click on one shows its profile, and
// no request leaves this computer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, launch } from "./lib.mjs";

async function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), "vitalcore-pw-"));
  const child = spawn(BIN, ["--quiet", "demo", "--demo-db", join(dir, "demo.db"), "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8");
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    const [chunk] = await once(child.stdout, "data");
    out += chunk;
  }
  return { child, url: out.match(/listening on (http:\/\/\S+)/)[1] };
}

test("the map shows every prefecture and a click opens its profile, offline", async () => {
  const { child, url } = await startDemo();
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await page.goto(url);
    await page.waitForFunction(() => document.querySelectorAll("#map path").length === 17, null, { timeout: 15000 });
    assert.match(await page.textContent("#status"), /17 areas/);
    const rows = await page.locator("#areas tbody tr").count();
    assert.equal(rows, 17);

    // Click the first area of the table (the most threatened): its profile opens.
    const name = (await page.locator("#areas tbody tr td").first().textContent()).trim();
    await page.locator("#areas tbody tr button").first().click();
    await page.waitForSelector("#profile h2", { timeout: 15000 });
    assert.equal((await page.textContent("#profile h2")).startsWith(name), true);
    assert.match(await page.textContent("#profile"), /Personal security/);

    // Switching the threat recolours the map from the API, still 17 areas.
    await page.selectOption("#category", "protection_of_civilians");
    await page.waitForFunction(() => document.querySelector("#status").textContent.includes("17 areas"));
    assert.deepEqual(outside, [], "the page must load nothing from outside");
    await page.screenshot({ path: join(tmpdir(), "vitalcore-map.png") });
  } finally {
    await browser.close();
    child.kill();
  }
});
