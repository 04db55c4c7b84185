// Median time from navigation start to hydrated (the app's `data-hydrated` marker) in
// headless Chromium, for /login and for the dashboard after login, 10 loads each, every
// load in a fresh page of one browser (HTTP cache warm after the first, as for a user
// coming back). Prints two Markdown table rows. Used by scripts/bench.sh:
//   node scripts/hydration-timing.mjs http://127.0.0.1:3000
import { chromium } from "@playwright/test";

const base = process.argv[2] ?? `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;
const loads = 10;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext();
// Records performance.now() (ms since navigation start) when the marker appears.
await context.addInitScript(() => {
  new MutationObserver((_, observer) => {
    const app = document.querySelector('.app[data-hydrated="true"]');
    if (app) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"], childList: true });
});

async function timeLoads(path) {
  const times = [];
  for (let i = 0; i < loads; i++) {
    const page = await context.newPage();
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => window.__hydratedAt !== undefined);
    times.push(await page.evaluate(() => window.__hydratedAt));
    await page.close();
  }
  times.sort((a, b) => a - b);
  return (times[loads / 2 - 1] + times[loads / 2]) / 2;
}

const login = await timeLoads("/login");
const page = await context.newPage();
await page.goto(`${base}/login`);
await page.locator('.app[data-hydrated="true"]').waitFor({ state: "attached" });
await page.getByLabel("Customer code").fill("ACME");
await page.getByLabel("Username").fill("demo");
await page.locator("#password").fill("demo-password");
await page.locator("#password").press("Enter");
await page.waitForURL(`${base}/`);
await page.close();
const dashboard = await timeLoads("/");
console.log(`| hydrated /login, median of ${loads} (Chromium, headless) | ${login.toFixed(0)} ms |`);
console.log(`| hydrated dashboard after login, median of ${loads} | ${dashboard.toFixed(0)} ms |`);
await browser.close();
