// What the browser tests share (imported, not a test itself): running the
// CLI on a database, starting `vitalcore serve` on a free port, launching
// Chromium with nothing that calls out, signing in through the login form,
// and axe-core's serious and critical violations.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

export const BIN = process.env.VITALCORE_BIN || "../target/debug/vitalcore";
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const PASSWORD = "correct horse battery staple";
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export const ENV = { ...process.env };
delete ENV.VITALCORE_DATABASE_URL;

// `vitalcore --db DB ARGS...`, which must succeed; its standard output.
export function vitalcore(db, args, input) {
  const r = spawnSync(BIN, ["--db", db, ...args], { input, encoding: "utf8", env: ENV });
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

// `vitalcore serve` on DB at a free port: the child and its base URL.
export async function serve(db, extra = []) {
  const child = spawn(BIN, ["--db", db, "--quiet", "serve", "--addr", "127.0.0.1:0", ...extra],
    { env: ENV, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    const [chunk] = await once(child.stdout, "data");
    out += chunk;
  }
  return { child, url: out.match(/listening on (http:\/\/\S+)/)[1].replace(/\/$/, "") };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

// Signs in through the login form as a person would.
export async function login(page, url, user, password = PASSWORD) {
  await page.goto(`${url}/login`);
  await page.fill("#u", user);
  await page.fill("#p", password);
  await page.click("button[type=submit]");
  await page.waitForLoadState("load");
  assert.match(await page.textContent("header.shell"), new RegExp(`Signed in as ${user}`), user);
}

// axe-core, run in the page (evaluated over the DevTools protocol, so the
// page's Content-Security-Policy stays as served): the serious and critical
// violations, each with the elements it names.
export async function axeProblems(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 4).join(", ")})`);
}
