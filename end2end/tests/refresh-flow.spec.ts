import { expect, test } from "./fixtures";
import {
  DEMO,
  countRequests,
  errorToastsShown,
  fireBurst,
  hydrated,
  logIn,
  login,
  openLab,
  sessionCounters,
  submitLogin,
  watchSpinner,
} from "./helpers";

const REFRESH = "/api/auth/refresh";

test("logging in lands on the dashboard with every panel filled", async ({ page }) => {
  await logIn(page);
  await expect(page.locator("#panel-profile .profile-name")).toHaveText(DEMO.name);
  await expect(page.locator("#panel-stats [data-loaded] .stat")).toHaveCount(4);
  await expect(page.locator("#panel-orders tbody tr")).toHaveCount(5);
  await expect(page.locator(".who-code")).toHaveText(DEMO.code);
  await expect(page.locator(".toast-error")).toHaveCount(0);

  // Logging out clears the refresh cookie: a refresh now answers "session over".
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login\?redirect=%2F&code=ACME$/);
  const refresh = await page.request.post("/api/auth/refresh");
  expect((await refresh.json()).errcode).toBe(42002);
  expect(await errorToastsShown(page)).toBe(0);
});

test("ten parallel requests on an expired token share exactly one refresh", async ({ page }) => {
  await logIn(page);
  await openLab(page);
  await page.locator("#expire").click();
  await expect(page.locator(".toast-success", { hasText: "expired" })).toBeVisible();
  const before = await sessionCounters(page.request);
  const refreshCalls = countRequests(page, REFRESH);
  const spinnerSeen = await watchSpinner(page);
  const tokenTail = page.locator(".token-tail");
  const oldTail = await tokenTail.textContent();
  expect(oldTail).toMatch(/^….{12}$/);

  await fireBurst(page, 10);

  const summary = page.locator("#burst-summary");
  await expect(summary).toHaveAttribute("data-ok", "10");
  await expect(summary).toHaveAttribute("data-failed", "0");
  expect(refreshCalls()).toBe(1);
  expect(await spinnerSeen()).toBe(true);
  await expect(page.locator(".loading-bar")).not.toHaveClass(/active/);
  await expect(page.locator(".loading-bar")).toHaveAttribute("data-in-flight", "0");
  expect(await errorToastsShown(page)).toBe(0);
  // The timeline shows the single flight: ten 30001 answers, one refresh, ten replays.
  await expect(page.locator("#lab-timeline .chip-errcode")).toHaveCount(10);
  await expect(page.locator("#lab-timeline .chip-refresh")).toHaveCount(1);
  await expect(page.locator("#lab-timeline .chip-replayed")).toHaveCount(10);
  const after = await sessionCounters(page.request);
  expect(after.refreshes - before.refreshes).toBe(1);
  expect(after.reuse_detections).toBe(0);
  // The lab shows the end of the new token.
  await expect(tokenTail).toHaveText(/^….{12}$/);
  await expect(tokenTail).not.toHaveText(oldTail!);
});

test("a refresh refused mid-session shows one toast and sends the user to log in", async ({ page }) => {
  await logIn(page);
  await openLab(page);
  const refreshCalls = countRequests(page, REFRESH);
  await page.locator("#expire").click();
  await expect(page.locator(".toast-success", { hasText: "expired" })).toBeVisible();
  await page.locator("#revoke").click();
  await expect(page.locator(".toast-success", { hasText: "revoked" })).toBeVisible();

  await fireBurst(page, 10);

  await expect(page).toHaveURL(/\/login\?redirect=%2Flab&code=ACME$/);
  await expect(page.locator(".toast-error")).toHaveCount(1);
  await expect(page.locator(".toast-error")).toContainText("Automatic login failed, please log in again");
  expect(await errorToastsShown(page)).toBe(1);
  expect(refreshCalls()).toBe(1);
  // Nothing hangs: every request of the burst settled and the spinner is gone.
  await expect(page.locator(".loading-bar")).toHaveAttribute("data-in-flight", "0");
  await expect(page.locator(".loading-bar")).not.toHaveClass(/active/);

  // The customer code is prefilled; logging in again returns to the lab.
  await hydrated(page);
  await expect(login.code(page)).toHaveValue(DEMO.code);
  await login.username(page).fill(DEMO.username);
  await login.password(page).fill(DEMO.password);
  await login.password(page).press("Enter");
  await expect(page).toHaveURL(/\/lab$/);
  await expect(page.locator("#fire")).toBeEnabled();
});

test("a reload keeps the user logged in, without a login flash", async ({ page }) => {
  await logIn(page);
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await expect(page.locator("#orders-list tbody tr")).toHaveCount(10);
  const visited: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
  });
  const refreshCalls = countRequests(page, REFRESH);

  const response = await page.reload();

  expect(response?.status()).toBe(200);
  // The server rendered the signed-in page: the user's name is in the first HTML.
  expect(await response?.text()).toContain(DEMO.name);
  await expect(page.locator("#orders-list tbody tr")).toHaveCount(10);
  expect(visited.every((path) => path === "/orders")).toBe(true);
  // The token lived in memory only: one silent refresh from the cookie brought it back.
  expect(refreshCalls()).toBe(1);
  expect(await errorToastsShown(page)).toBe(0);
});

test("a logged-out visit to a protected page goes to the login page, and foreign redirects are ignored", async ({
  page,
}) => {
  const response = await page.goto("/orders?page=2");
  await expect(page).toHaveURL(/\/login\?redirect=%2Forders%3Fpage%3D2$/);
  expect(response?.request().redirectedFrom()?.url()).toMatch(/\/orders\?page=2$/);

  for (const foreign of ["https://example.com", "//example.com", "/\\example.com"]) {
    await page.context().clearCookies();
    await page.goto(`/login?redirect=${encodeURIComponent(foreign)}`);
    await submitLogin(page);
    await expect(page).toHaveURL((url) => url.host !== "example.com" && url.pathname === "/");
  }
});

test("a bad login shows the server's errmsg and makes no refresh call", async ({ page }) => {
  const refreshCalls = countRequests(page, REFRESH);
  await page.goto("/login?code=ACME");
  await submitLogin(page, "wrong-password");
  const toast = page.locator(".toast-error");
  await expect(toast).toHaveCount(1);
  await expect(toast).toContainText("customer code, username or password is incorrect");
  await expect(page.locator("#login-error"), "also next to the form").toHaveText(
    "Customer code, username or password is incorrect.",
  );
  await expect(page).toHaveURL(/\/login\?code=ACME$/);
  await expect(login.submit(page)).toBeEnabled();
  expect(refreshCalls()).toBe(0);
});

test("a login under way ignores further submits, and its button says so", async ({ page }) => {
  // The login's answer is held until the test lets it go.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/auth/login", async (route) => {
    await held;
    await route.continue();
  });
  const logins = countRequests(page, "/api/auth/login");
  await page.goto("/login");
  await submitLogin(page);
  const submit = page.locator("form.login-card button[type=submit]");
  await expect(submit).toBeDisabled();
  await expect(submit).toHaveText("Signing in…");
  // Enter again, and a script's submit, which a disabled button does not stop.
  await login.password(page).press("Enter");
  await page.locator("form.login-card").evaluate((form: HTMLFormElement) => form.requestSubmit());
  release();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#panel-profile [data-loaded]")).toBeVisible();
  // A second login would have been sent at its submit, before the first was let go.
  expect(logins()).toBe(1);
});

test("the lab's lifetime field sends what was typed, and refuses what is not a number", async ({ page }) => {
  await logIn(page);
  await openLab(page);
  const lifetimeCalls = countRequests(page, "/api/demo/lifetime");
  const field = page.getByLabel("Token lifetime (s)");
  await expect(field).toHaveValue("20");

  await field.fill("soon");
  await page.locator("#apply-lifetime").click();
  await expect(page.locator(".toast-error")).toHaveText(/Lifetime must be a whole number of seconds/);
  expect(lifetimeCalls()).toBe(0);

  await field.fill("7");
  const sent = page.waitForRequest((request) => new URL(request.url()).pathname === "/api/demo/lifetime");
  await page.locator("#apply-lifetime").click();
  expect((await sent).postDataJSON()).toEqual({ seconds: 7 });
  await expect(page.locator(".toast-success")).toHaveText(/New access tokens live 7 s/);
  expect(lifetimeCalls()).toBe(1);
});
