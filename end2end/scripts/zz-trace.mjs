import { chromium } from "@playwright/test";
const base = process.argv[2];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
const context = await browser.newContext();
await context.addInitScript(() => {
  new MutationObserver((_, o) => { if (document.querySelector('.app[data-hydrated="true"]')) { window.__h = performance.now(); performance.mark("hydrated"); o.disconnect(); } })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"], childList: true });
});
for (let i = 0; i < 4; i++) { const p = await context.newPage(); await p.goto(base + "/login"); await p.waitForFunction(() => window.__h !== undefined); await p.close(); }
const page = await context.newPage();
await browser.startTracing(page, { path: "/tmp/trace.json", categories: ["devtools.timeline", "v8", "v8.wasm", "blink.user_timing", "loading", "disabled-by-default-devtools.timeline"] });
await page.goto(base + "/login");
await page.waitForFunction(() => window.__h !== undefined);
console.log("hydrated at", await page.evaluate(() => window.__h));
await browser.stopTracing();
await browser.close();
