import { expect, type BrowserContext, type Page, type APIRequestContext } from "@playwright/test";

export const DEMO = { code: "ACME", username: "demo", password: "demo-password", name: "Dana Demo" };

/** Waits until the app has hydrated (an Effect sets the attribute in the browser). */
export async function hydrated(page: Page) {
  await expect(page.locator('.app[data-hydrated="true"]')).toBeAttached();
}

export const login = {
  code: (page: Page) => page.getByLabel("Customer code"),
  username: (page: Page) => page.getByLabel("Username"),
  password: (page: Page) => page.locator("#password"),
  submit: (page: Page) => page.getByRole("button", { name: /sign in/i }),
};

/** Fills the login form (already on /login) and submits it with Enter. */
export async function submitLogin(page: Page, password = DEMO.password, username = DEMO.username) {
  await hydrated(page);
  await login.code(page).fill(DEMO.code);
  await login.username(page).fill(username);
  await login.password(page).fill(password);
  await login.password(page).press("Enter");
}

/** Logs the demo user in and waits for the dashboard. */
export async function logIn(page: Page) {
  await page.goto("/login");
  await submitLogin(page);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#panel-profile [data-loaded]")).toBeVisible();
}

/** Counts refresh calls sent by every page of `context` from now on. */
export function countRefreshCalls(context: BrowserContext) {
  let seen = 0;
  context.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/api/auth/refresh") seen += 1;
  });
  return () => seen;
}

/** Counts requests to `path` from now on. */
export function countRequests(page: Page, path: string) {
  const seen: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === path) seen.push(request.method());
  });
  return () => seen.length;
}

/** Records whether the global loading bar ever becomes active, however briefly. */
export async function watchSpinner(page: Page) {
  await page.evaluate(() => {
    const bar = document.querySelector(".loading-bar");
    const w = window as unknown as { spinnerSeen: boolean };
    w.spinnerSeen = false;
    new MutationObserver(() => {
      if (bar?.classList.contains("active")) w.spinnerSeen = true;
    }).observe(bar!, { attributes: true });
  });
  return () => page.evaluate(() => (window as unknown as { spinnerSeen: boolean }).spinnerSeen);
}

/** The server's counters for this browser's session (cookies of the page's context). */
export async function sessionCounters(request: APIRequestContext) {
  const response = await request.get("/api/demo/counters");
  const body = await response.json();
  expect(body.errcode).toBe(0);
  return body.data.session as {
    refreshes: number;
    rotations: number;
    grace_refreshes: number;
    reuse_detections: number;
  };
}

/** Error toasts shown since the page loaded. */
export async function errorToastsShown(page: Page) {
  return Number(await page.locator(".toaster").getAttribute("data-errors-shown"));
}

/** Goes to the refresh lab by a client-side navigation: the coordinator's state carries over. */
export async function openLab(page: Page) {
  await page.getByRole("link", { name: "Refresh lab" }).click();
  await expect(page).toHaveURL(/\/lab$/);
  await expect(page.locator("#fire")).toBeEnabled();
}

/** Has the server refuse the current access token (30001), as the lab's button does. */
export async function expireToken(page: Page) {
  await page.locator("#expire").click();
  await expect(page.locator(".toast-success", { hasText: "expired" }).last()).toBeVisible();
}

/** Fires `size` parallel requests from the lab. */
export async function fireBurst(page: Page, size: number) {
  await page.locator("#burst-size").selectOption(String(size));
  await page.locator("#fire").click();
}
