// End-to-end test of the web UI against a running `weir server`, driven
// by server/ui_e2e_test.go (which starts the server):
//
//   node web/e2e/ui.mjs URL SCREENSHOT_DIR [--no-gateway]
//
// It drives Debian's Chromium headless ($CHROMIUM, default
// /usr/bin/chromium) with playwright-core: runs a query in the SQL editor
// through the SQL Gateway and sees its live result (skipped with
// --no-gateway), submits an INSERT INTO job from the editor, sees the job
// graph with a throughput that moves, triggers a savepoint and sees it
// complete, and stops the job with a savepoint. With WEIR_E2E_TOKEN set
// (the server's --token), it first enters the token in the prompt a 401
// opens. It writes one screenshot
// per page into SCREENSHOT_DIR and exits non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, shots, flag] = process.argv.slice(2);
if (!url || !shots) {
  console.error("usage: node ui.mjs URL SCREENSHOT_DIR [--no-gateway]");
  process.exit(2);
}
const gateway = flag !== "--no-gateway";
// WEIR_E2E_TOKEN: the server's token, entered when the UI asks for it.
const token = process.env.WEIR_E2E_TOKEN || "";
const started = Date.now();
const step = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

// poll calls fn until it returns a truthy value, or throws after ms.
async function poll(what, ms, fn) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ": " + last.message : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const profile = mkdtempSync(join(tmpdir(), "weir-ui-e2e-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1400, height: 900 },
  deviceScaleFactor: 1,
});
const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20000);
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
page.on("console", (m) => {
  if (m.type() === "error") console.log("browser console error:", m.text());
});
page.on("dialog", (d) => d.accept());

let code = 0;
try {
  step("open the SQL editor");
  await page.goto(url + "/#/sql");
  await page.waitForSelector("textarea.editor");

  if (token) {
    // The server has a token: the first mutating call gets 401, and the
    // prompt takes the token; the page then starts over with it.
    step("a call without the token gets 401: enter it in the prompt");
    await page.getByRole("button", { name: gateway ? "Run" : "Submit job" }).click();
    await page.locator(".modal input[type=password]").fill(token);
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator(".modal").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Token set" }).waitFor();
  }

  if (gateway) {
    step("run the example query through the SQL Gateway");
    await page.getByRole("button", { name: "Run" }).click();
    const status = page.locator("[data-testid=result-status]");
    const first = await poll("the first result rows", 30000, async () => {
      const t = await status.textContent({ timeout: 1000 });
      const m = /(\d+) rows · (\d+) changes/.exec(t || "");
      return m && Number(m[1]) > 0 ? Number(m[2]) : 0;
    });
    // Live: more changes arrive and are applied while we watch.
    await poll("more changes to the live result", 20000, async () => {
      const t = await status.textContent({ timeout: 1000 });
      const m = /(\d+) rows · (\d+) changes/.exec(t || "");
      return m && Number(m[2]) > first && Number(m[1]) >= 3;
    });
    // The table is the changelog applied: one row per user, no duplicates.
    const keys = await page.locator(".result .result-table tbody tr td:first-child").allTextContents();
    if (new Set(keys).size !== keys.length) throw new Error("the updating result has duplicate keys: " + keys.join(","));
    await page.screenshot({ path: join(shots, "sql-editor.png") });
    await page.getByRole("button", { name: "Stop" }).click();
    step(`live result seen: ${keys.length} rows`);
  }

  step("submit the INSERT INTO example as a job");
  await page.selectOption("select", "1");
  await page.fill("input[type=number]", "2");
  await page.getByRole("button", { name: "Submit job" }).click();
  const link = page.locator("[data-testid=submitted-job] a");
  await link.waitFor();
  const jobId = (await link.textContent()).trim();
  if (!gateway) await page.screenshot({ path: join(shots, "sql-editor.png") });
  await link.click();

  step(`job ${jobId}: wait for the graph and moving throughput`);
  await poll("the job graph with at least two vertices", 30000, async () => (await page.locator("svg g.vertex").count()) >= 2);
  const rateText = page.locator("svg text.v-rate").first();
  const seen = new Set();
  await poll("two different throughput values", 30000, async () => {
    const t = (await rateText.textContent()) || "";
    const m = /out ([\d.]+)(k|M)?\/s/.exec(t);
    if (m && Number(m[1]) > 0) seen.add(t);
    return seen.size >= 2;
  });
  step("throughput values seen: " + [...seen].join(" | "));
  // Sparklines need a few points; busy colouring needs a metrics poll.
  await poll("sparklines", 20000, async () => (await page.locator("td.spark-cell canvas").count()) >= 2);
  await poll("busy-time colouring", 20000, async () => /busy \d+%/.test((await page.locator("svg g.vertex").first().textContent()) || ""));
  await page.screenshot({ path: join(shots, "job-graph.png") });

  step("trigger a savepoint");
  await page.getByRole("button", { name: "Trigger savepoint" }).click();
  const sp = page.locator('li[data-op="Savepoint"][data-status="COMPLETED"]');
  await sp.waitFor({ timeout: 30000 });
  const spText = await sp.textContent();
  if (!/savepoint/.test(spText)) throw new Error("the completed savepoint shows no path: " + spText);
  step("savepoint: " + spText);

  step("checkpoints tab");
  await page.click("nav.tabs a:has-text('Checkpoints')");
  await poll("a checkpoint chart and the savepoint in the history", 30000, async () => {
    const rows = await page.locator("table.checkpoints tbody tr").allTextContents();
    const hasSavepoint = rows.some((r) => r.includes("savepoint"));
    return rows.length >= 3 && hasSavepoint && (await page.locator(".chart canvas").count()) > 0;
  });
  await page.screenshot({ path: join(shots, "checkpoints.png") });

  step("job list");
  await page.click("header nav a:has-text('Jobs')");
  await page.locator(`tr[data-job="${jobId}"] .state-running`).waitFor();
  await page.screenshot({ path: join(shots, "job-list.png") });

  step("stop with a savepoint");
  await page.click(`tr[data-job="${jobId}"] a >> nth=0`);
  await page.getByRole("button", { name: "Stop with savepoint" }).click();
  await page.locator('li[data-op="Stop with savepoint"][data-status="COMPLETED"]').waitFor({ timeout: 30000 });
  await poll("the job's state FINISHED", 20000, async () => (await page.locator("[data-testid=job-state]").textContent()) === "FINISHED");
  step("job FINISHED");
  if (pageErrors.length) throw new Error("errors in the page: " + pageErrors.join("; "));
} catch (e) {
  code = 1;
  console.error("FAIL:", e.message);
  for (const m of pageErrors) console.error("error in the page:", m);
  await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  console.error("screenshot of the failure:", join(shots, "failure.png"));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
step(code ? "failed" : "passed");
process.exit(code);
