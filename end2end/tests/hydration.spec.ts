import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { hydrated, submitLogin } from "./helpers";

test("the home page hydrates and reacts to a click", async ({ page }) => {
  await page.goto("/");
  // Logged out: the server sent us to the login page.
  await expect(page).toHaveURL(/\/login\?redirect=%2F$/);
  await hydrated(page);
  const password = page.locator("#password");
  await expect(password).toHaveAttribute("type", "password");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(password).toHaveAttribute("type", "text");
  await expect(page.getByRole("button", { name: "Hide" })).toBeVisible();
});

test("the login page loads no signed-in page's code, and each signed-in page only its own, preloaded with the page", async ({ page }) => {
  // The WASM chunks of the pages' bodies (`Deferred`), by function name, in the order fetched.
  const chunks: string[] = [];
  page.on("request", (request) => {
    const file = /\/split_(\w+?)_\d+\.wasm$/.exec(new URL(request.url()).pathname);
    if (file) chunks.push(file[1]);
  });
  await page.goto("/login");
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  expect(chunks, "the login page's first load").toEqual([]);
  await submitLogin(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#panel-profile [data-loaded]")).toBeVisible();
  expect(chunks, "the dashboard's panels").toEqual(["panels"]);
  await page.locator("#panel-orders a.more").click();
  await expect(page.locator("#orders-list [data-loaded]")).toBeVisible();
  expect(chunks, "then the order list").toEqual(["panels", "order_list"]);
  // Loaded directly, a page's head preloads its chunks, and the loader uses that fetch.
  await page.goto("/sessions");
  await expect(page.locator("#sessions [data-loaded]")).toBeVisible();
  expect(chunks, "the session list, fetched once").toEqual(["panels", "order_list", "session_list"]);
  const preloaded = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((entry) => /\/split_session_list_\d+\.wasm$/.test(entry.name))
      .map((entry) => (entry as PerformanceResourceTiming).initiatorType),
  );
  expect(preloaded, "by the head's preload").toEqual(["link"]);
});

/** Loads `path` and checks its CSP: scripts by nonce only, every inline script carrying it. */
async function servedWithNonceAndHydrated(page: Page, path: string, status: number) {
  const response = await page.goto(path);
  expect(response?.status()).toBe(status);
  const policy = response?.headers()["content-security-policy"] ?? "";
  expect(policy).toContain("'strict-dynamic'");
  expect(policy).not.toContain("unsafe-inline");
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce).toBeTruthy();
  await hydrated(page);
  // Every inline script the page has carries the header's nonce (the browser hides the
  // attribute's value from the DOM, so the `nonce` property is read).
  const nonces = await page.evaluate(() =>
    Array.from(document.querySelectorAll("script")).map((script) => script.nonce),
  );
  expect(nonces.length).toBeGreaterThan(0);
  for (const found of nonces) expect(found).toBe(nonce);
}

test("pages are served with a nonce-based CSP and still hydrate", async ({ page }) => {
  await servedWithNonceAndHydrated(page, "/login", 200);
});

test.describe("the 404 page", () => {
  // Chromium reports the page's own status as an error.
  test.use({ expectedConsoleErrors: [/status of 404 \(Not Found\)/] });
  test("is served with a nonce-based CSP and still hydrates", async ({ page }) => {
    await servedWithNonceAndHydrated(page, "/no-such-page", 404);
  });
});

test("the app's files are linked under their build's version and kept for a year", async ({ page, request }) => {
  await page.goto("/login");
  await hydrated(page);
  const urls = await page.evaluate(() => [
    document.querySelector<HTMLLinkElement>('link[rel="modulepreload"][href$="/painless.js"]')?.href,
    document.querySelector<HTMLLinkElement>('link[rel="preload"][as="fetch"]')?.href,
    document.querySelector<HTMLLinkElement>("link#leptos")?.href,
  ]);
  const loaded = await page.evaluate(() => performance.getEntriesByType("resource").map((entry) => entry.name));
  for (const url of urls) {
    expect(url).toMatch(/\/pkg\/[0-9a-f]{16}\/painless\.(js|wasm|css)$/);
    expect(loaded, "the browser loaded the app by the versioned URL").toContain(url);
    const versioned = await request.get(url!);
    expect(versioned.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    const body = await versioned.body();
    // The plain name and another build's version are the same file, revalidated each time.
    for (const other of [url!.replace(/\/[0-9a-f]{16}\//, "/"), url!.replace(/\/[0-9a-f]{16}\//, "/0000000000000000/")]) {
      const response = await request.get(other);
      expect(response.headers()["cache-control"]).toBe("no-cache");
      expect((await response.body()).equals(body)).toBe(true);
    }
  }
});
