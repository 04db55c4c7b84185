// Screenshots of the login page, the dashboard and the refresh lab in the middle of a
// refresh, for looking at the UI (kept out of git). Needs a running server:
//   LEPTOS_SITE_ADDR=127.0.0.1:3000 node scripts/screenshots.mjs
import { chromium } from "@playwright/test";

const base = `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;
const out = new URL("../screenshots/", import.meta.url).pathname;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
const hydrated = () => page.locator('.app[data-hydrated="true"]').waitFor({ state: "attached" });

await page.goto(`${base}/login?redirect=%2F`);
await hydrated();
await page.getByLabel("Customer code").fill("ACME");
await page.getByLabel("Username").fill("demo");
await page.screenshot({ path: `${out}login.png` });

await page.locator("#password").fill("demo-password");
await page.locator("#password").press("Enter");
await page.locator("#panel-orders tbody tr").first().waitFor();
await page.screenshot({ path: `${out}dashboard.png` });

await page.getByRole("link", { name: "Refresh lab" }).click();
await page.locator("#fire").waitFor();
await page.locator("#expire").click();
await page.locator("#burst-size").selectOption("10");
// Hold the refresh response so the screenshot shows the requests parked behind it.
let release;
const held = new Promise((resolve) => (release = resolve));
await page.route("**/api/auth/refresh", async (route) => {
  await held;
  await route.continue();
});
await page.locator("#fire").click();
await page.locator("#lab-timeline .chip-refresh").waitFor();
await page.waitForFunction(() => document.querySelectorAll("#lab-timeline .chip-queued").length >= 10);
await page.screenshot({ path: `${out}lab-refreshing.png`, fullPage: true });
release();
await page.locator("#burst-summary").waitFor();
await page.screenshot({ path: `${out}lab-done.png`, fullPage: true });
await browser.close();
console.log(`screenshots in ${out}`);
