import { chromium } from "@playwright/test";
const bases = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
const ctx = {}; const times = {};
for (const b of bases) {
  ctx[b] = await browser.newContext(); times[b] = [];
  await ctx[b].addInitScript(() => { new MutationObserver((_, o) => { if (document.querySelector('.app[data-hydrated="true"]')) { window.__h = performance.now(); o.disconnect(); } })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"], childList: true }); });
  const p = await ctx[b].newPage(); await p.goto(b + "/login"); await p.waitForFunction(() => window.__h !== undefined, null, {timeout: 5000}); await p.close();
}
for (let round = 0; round < 25; round++) for (const b of bases) {
  const p = await ctx[b].newPage(); await p.goto(b + "/login"); await p.waitForFunction(() => window.__h !== undefined, null, {timeout: 5000});
  times[b].push(await p.evaluate(() => window.__h)); await p.close();
}
for (const b of bases) { const t = times[b].sort((a, c) => a - c); console.log(b, "median", t[12].toFixed(0), "min", t[0].toFixed(0), "q1", t[6].toFixed(0), "q3", t[18].toFixed(0)); }
await browser.close();
