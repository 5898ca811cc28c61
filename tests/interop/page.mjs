// The seed's page in headless Chromium: load http://…/ from `tickertape demo` and watch the
// NAME and PRICE placeholders turn into live, changing quotes. Prints "N passed, M failed".
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.TICKERTAPE_BIN || path.join(here, "../../target/debug/tickertape");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";

const demo = spawn(bin, ["demo", "--interval", "200ms"], { stdio: ["ignore", "ignore", "pipe"] });
let stderr = "";
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("demo did not start")), 10000);
  createInterface({ input: demo.stderr }).on("line", (line) => {
    stderr += line + "\n";
    const m = line.match(/open (http:\/\/127\.0\.0\.1:\d+\/)/);
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
});

let failed = 0;
let browser;
try {
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.goto(url);
  const read = async () => ({
    name: await page.textContent("#name"),
    price: await page.textContent("#price"),
  });
  await page.waitForFunction(() => document.getElementById("name").textContent !== "NAME", null, { timeout: 10000 });
  const first = await read();
  await page.waitForFunction((p) => document.getElementById("price").textContent !== p, first.price, { timeout: 10000 });
  const second = await read();
  const ok = first.name !== "NAME" && first.price !== "PRICE" && Number.isFinite(Number(second.price));
  console.log(`${ok ? "ok  " : "FAIL"} the page shows live quotes: ${JSON.stringify(first)} then ${JSON.stringify(second)}`);
  if (!ok) failed = 1;
} catch (e) {
  console.log(`FAIL the page shows live quotes: ${e.message}`);
  failed = 1;
} finally {
  // The demo is stopped whatever happened, even when no browser could start.
  await browser?.close();
  const exited = new Promise((resolve) => demo.once("close", resolve));
  demo.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
}
// A panic anywhere in the demo, a spawned task's included, fails the run.
const panicked = stderr.includes("panicked");
console.log(`${panicked ? "FAIL" : "ok  "} the demo's stderr shows no panic${panicked ? `:\n${stderr}` : ""}`);
const total = 2;
const bad = failed + (panicked ? 1 : 0);
console.log(`${total - bad} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
