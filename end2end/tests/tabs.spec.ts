import { expect, test } from "./fixtures";
import type { BrowserContext, Page } from "@playwright/test";
import { countRefreshCalls, errorToastsShown, hydrated, logIn, sessionCounters, submitLogin } from "./helpers";

/** Logs in in a first tab and opens the lab there and in `count - 1` more tabs. */
async function labTabs(context: BrowserContext, count: number) {
  const first = await context.newPage();
  await logIn(first);
  await first.getByRole("link", { name: "Refresh lab" }).click();
  const tabs = [first];
  for (let i = 1; i < count; i++) {
    // They share the cookie jar: logged in, but holding no access token yet.
    const tab = await context.newPage();
    await tab.goto("/lab");
    tabs.push(tab);
  }
  for (const tab of tabs) {
    await hydrated(tab);
    await expect(tab.locator("#fire")).toBeEnabled();
  }
  return tabs;
}

/** Makes every access token of the session unusable on the server (answers 30001). */
async function expireTokens(tab: Page) {
  await tab.locator("#expire").click();
  await expect(tab.locator(".toast-success", { hasText: "expired" })).toBeVisible();
}

async function fireEverywhere(tabs: Page[]) {
  await Promise.all(tabs.map((tab) => tab.locator("#fire").click()));
  for (const tab of tabs) {
    await expect(tab.locator("#burst-summary")).toHaveAttribute("data-ok", "10");
    await expect(tab.locator("#burst-summary")).toHaveAttribute("data-failed", "0");
  }
}

test("three tabs whose tokens expired together send one refresh between them", async ({ context }) => {
  const tabs = await labTabs(context, 3);
  await expireTokens(tabs[0]);
  const before = await sessionCounters(tabs[0].request);
  const tallyBefore = await tabs[0].evaluate(() => Number(localStorage.getItem("painless.refresh-calls")));
  const refreshCalls = countRefreshCalls(context);

  await fireEverywhere(tabs);

  expect(refreshCalls(), "refresh calls from the whole browser").toBe(1);
  const after = await sessionCounters(tabs[0].request);
  expect(after.refreshes - before.refreshes).toBe(1);
  expect(after.grace_refreshes - before.grace_refreshes, "no tab raced another").toBe(0);
  expect(after.reuse_detections).toBe(0);
  for (const tab of tabs) expect(await errorToastsShown(tab)).toBe(0);
  // Only numbers are shared through storage (the generation, the tally), never a token.
  const stored = await tabs[0].evaluate(() => [...Object.values(localStorage), ...Object.values(sessionStorage)]);
  expect(stored.length).toBeGreaterThan(0);
  for (const value of stored) expect(value).toMatch(/^\d+$/);
  // The browser's own tally (shown by the lab) agrees: one refresh call from all tabs.
  const tally = () => tabs[0].evaluate(() => Number(localStorage.getItem("painless.refresh-calls")));
  expect(await tally()).toBe(tallyBefore + 1);
  await expect(tabs[0].locator('[data-counter="browser-refreshes"]')).toHaveText(String(tallyBefore + 1));
});

test("without Web Locks the tabs still share tokens and nobody is logged out", async ({ context }) => {
  await context.addInitScript(() => {
    delete (Navigator.prototype as unknown as { locks?: unknown }).locks;
  });
  const tabs = await labTabs(context, 3);
  expect(await tabs[0].evaluate(() => "locks" in navigator)).toBe(false);
  await expireTokens(tabs[0]);

  await fireEverywhere(tabs);

  const after = await sessionCounters(tabs[0].request);
  expect(after.reuse_detections).toBe(0);
  for (const tab of tabs) {
    expect(await errorToastsShown(tab)).toBe(0);
    await expect(tab).toHaveURL(/\/lab$/);
  }
});

test("where AbortSignal.timeout is missing the lock still makes one refresh for all tabs", async ({ context }) => {
  // Safari 15 has Web Locks but not AbortSignal.timeout: the lock is then taken without a timeout.
  await context.addInitScript(() => {
    delete (AbortSignal as unknown as { timeout?: unknown }).timeout;
  });
  const tabs = await labTabs(context, 2);
  expect(await tabs[0].evaluate(() => "timeout" in AbortSignal)).toBe(false);
  await expireTokens(tabs[0]);
  const refreshCalls = countRefreshCalls(context);

  await fireEverywhere(tabs);

  expect(refreshCalls()).toBe(1);
  for (const tab of tabs) expect(await errorToastsShown(tab)).toBe(0);
});

test("a tab closed in the middle of its refresh does not leave the others stuck", async ({ context }) => {
  const [first, second] = await labTabs(context, 2);
  await expireTokens(first);
  // The first tab's refresh never gets an answer: it holds the lock until it is closed.
  await first.route("**/api/auth/refresh", () => {});
  const stuck = first.waitForRequest("**/api/auth/refresh");
  await first.locator("#fire").click();
  await stuck;
  await second.locator("#fire").click();
  await expect(second.locator("#phase")).toHaveText("Refreshing…");
  await expect(second.locator("#burst-summary")).not.toBeAttached();

  await first.close();

  await expect(second.locator("#burst-summary")).toHaveAttribute("data-ok", "10");
  expect(await errorToastsShown(second)).toBe(0);
});

test("a logout in one tab sends the others to the login page with a neutral notice", async ({ context }) => {
  const first = await context.newPage();
  await logIn(first);
  const second = await context.newPage();
  await second.goto("/orders");
  const third = await context.newPage();
  await third.goto("/lab");
  for (const tab of [second, third]) await hydrated(tab);

  await first.getByRole("button", { name: "Log out" }).click();

  for (const tab of [second, third]) {
    await expect(tab).toHaveURL(/\/login/, { timeout: 2_000 });
    await expect(tab.locator(".toast-info", { hasText: "You signed out in another tab" })).toBeVisible();
    expect(await errorToastsShown(tab), "not the automatic-login failure").toBe(0);
  }
});

test("going back to a signed-in page after a logout in another tab shows the login page, not the old content", async ({
  context,
}) => {
  const away = await context.newPage();
  await logIn(away);
  await away.getByRole("link", { name: "Orders", exact: true }).click();
  await expect(away.locator("#orders-list [data-loaded]")).toBeVisible();
  // A full navigation away: the orders page may be kept in the back/forward cache, where
  // it hears nothing from the other tabs.
  await away.goto("/login");
  const other = await context.newPage();
  await other.goto("/");
  await hydrated(other);
  await other.getByRole("button", { name: "Log out" }).click();
  await expect(other).toHaveURL(/\/login/);

  await away.goBack();

  await expect(away).toHaveURL(/\/login/);
  await hydrated(away);
  await expect(away.getByRole("button", { name: "Log out" })).toHaveCount(0);
  await expect(away.locator("#orders-list")).toHaveCount(0);
});

test("a login in one tab takes a tab waiting on the login page to its redirect", async ({ context }) => {
  const waiting = await context.newPage();
  await waiting.goto("/login?redirect=/orders");
  await hydrated(waiting);
  const first = await context.newPage();
  await first.goto("/login");
  await submitLogin(first);
  await expect(first).toHaveURL(/\/$/);

  await expect(waiting).toHaveURL(/\/orders$/);
  await expect(waiting.locator("#orders-list tbody tr")).toHaveCount(10);
});

test("a browser clock ten minutes ahead does not refresh before every request", async ({ context, page }) => {
  await page.clock.install({ time: Date.now() + 10 * 60 * 1000 });
  await logIn(page);
  const skew = (await page.evaluate(() => Date.now())) - Date.now();
  expect(skew, "the page's clock runs ten minutes ahead").toBeGreaterThan(9 * 60 * 1000);
  await page.getByRole("link", { name: "Refresh lab" }).click();
  await expect(page.locator("#fire")).toBeEnabled();
  const refreshCalls = countRefreshCalls(context);

  for (let burst = 0; burst < 2; burst++) {
    await page.locator("#fire").click();
    await expect(page.locator("#burst-summary")).toHaveAttribute("data-ok", "10");
    await expect(page.locator("#fire")).toBeEnabled();
  }

  // The login's token is good for 20 s on any clock: twenty requests need no refresh.
  expect(refreshCalls()).toBe(0);
  await expect(page.locator(".countdown")).not.toHaveText("expired");
});
