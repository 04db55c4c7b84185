import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { errorToastsShown, hydrated, logIn, submitLogin } from "./helpers";

/** Serious and critical violations of WCAG 2.1 A and AA that axe finds on the page. */
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test("the login page has no serious accessibility violations", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  expect(await seriousViolations(page)).toEqual([]);
});

test.describe("in Chinese", () => {
  test.use({ locale: "zh-CN" });

  test("the Chinese login page and dashboard have no serious accessibility violations", async ({ page }) => {
    await page.goto("/login");
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator("#customer_code").fill("ACME");
    await page.locator("#username").fill("demo");
    await page.locator("#password").fill("demo-password");
    await page.locator("#password").press("Enter");
    await expect(page.locator("#panel-profile [data-loaded]")).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
  });
});

test("the dashboard, orders and lab have no serious accessibility violations", async ({ page }) => {
  await logIn(page);
  expect(await seriousViolations(page), "dashboard").toEqual([]);
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await expect(page.locator("#orders-list tbody tr")).toHaveCount(10);
  expect(await seriousViolations(page), "orders").toEqual([]);
  await page.getByRole("link", { name: "Refresh lab" }).click();
  // An expired token first, so that the timeline shows every kind of step.
  await page.locator("#expire").click();
  await expect(page.locator(".toast-success", { hasText: "expired" })).toBeVisible();
  await page.locator("#fire").click();
  await expect(page.locator("#burst-summary")).toHaveAttribute("data-ok", "10");
  await expect(page.locator("[data-row^=r] .chip-refresh")).toHaveCount(1);
  expect(await seriousViolations(page), "lab").toEqual([]);
});

/** Submits the login form (already on /login) with an account that does not exist. */
async function failLogin(page: Page, username = "nobody") {
  await submitLogin(page, "wrong", username);
}

test("toasts stay while focused and can be dismissed from the keyboard", async ({ page }) => {
  await page.clock.install();
  await page.goto("/login");
  await hydrated(page);
  await failLogin(page);
  const toast = page.locator(".toast-error");
  await expect(toast).toHaveCount(1);
  await expect(page.locator(".toaster [role=alert]"), "announced once, by the live region").toHaveCount(0);
  const dismiss = toast.getByRole("button", { name: "Dismiss" });

  await dismiss.focus();
  await page.clock.runFor(10_000);
  await expect(toast, "kept while focused").toHaveCount(1);
  await page.getByLabel("Username").focus();
  await page.clock.runFor(8_000);
  await expect(toast, "gone some seconds after the focus left").toHaveCount(0);

  await failLogin(page);
  await expect(toast).toHaveCount(1);
  await dismiss.focus();
  await page.keyboard.press("Enter");
  await expect(toast).toHaveCount(0);
});

test("dismissing a toast leaves the others' elements as they were", async ({ page }) => {
  // A list redrawn by position would move the second toast's text into the first one's
  // element and drop the last element: the live region would announce the moved text
  // again, and a focused Dismiss button would lose its focus.
  await page.clock.install();
  await page.goto("/login");
  await hydrated(page);
  for (const attempt of [1, 2]) {
    await failLogin(page, `nobody-${attempt}`);
    await expect.poll(() => errorToastsShown(page)).toBe(attempt);
  }
  const toasts = page.locator(".toast");
  await expect(toasts).toHaveCount(2);
  const second = await toasts.nth(1).elementHandle();
  const secondText = await toasts.nth(1).textContent();
  await toasts.nth(1).getByRole("button", { name: "Dismiss" }).focus();
  // Every change to the second toast's element from here on.
  await page.evaluate((element) => {
    const seen: string[] = [];
    new MutationObserver((records) => {
      for (const record of records) seen.push(record.type);
    }).observe(element!, { subtree: true, childList: true, characterData: true, attributes: true });
    (window as unknown as { toastMutations: string[] }).toastMutations = seen;
  }, second);

  // Clicked from script, as a pointer does in browsers where a click does not focus the
  // button (Safari), so the focus stays on the second toast.
  await toasts.nth(0).evaluate((element) => element.querySelector("button")!.click());
  await expect(toasts).toHaveCount(1);
  expect(await second!.evaluate((element) => element.isConnected), "the same element stays").toBe(true);
  expect(await toasts.nth(0).textContent()).toBe(secondText);
  expect(await page.evaluate(() => (window as unknown as { toastMutations: string[] }).toastMutations)).toEqual([]);
  await expect(toasts.nth(0).getByRole("button", { name: "Dismiss" }), "its Dismiss button keeps the focus").toBeFocused();
});
