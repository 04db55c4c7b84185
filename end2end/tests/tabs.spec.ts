import { expect, test } from "./fixtures";
import { errorToastsShown, logIn, sessionCounters } from "./helpers";

test("two tabs refreshing at the same moment do not trip refresh-token reuse detection", async ({ context }) => {
  const first = await context.newPage();
  await logIn(first);
  await first.getByRole("link", { name: "Refresh lab" }).click();
  // The second tab shares the cookie jar: it is logged in but holds no access token yet.
  const second = await context.newPage();
  await second.goto("/lab");
  for (const tab of [first, second]) await expect(tab.locator("#fire")).toBeEnabled();
  await first.locator("#expire").click();
  await expect(first.locator(".toast-success", { hasText: "expired" })).toBeVisible();
  const before = await sessionCounters(first.request);

  await Promise.all([first.locator("#fire").click(), second.locator("#fire").click()]);

  for (const tab of [first, second]) {
    await expect(tab.locator("#burst-summary")).toHaveAttribute("data-ok", "10");
    expect(await errorToastsShown(tab)).toBe(0);
  }
  const after = await sessionCounters(first.request);
  expect(after.reuse_detections).toBe(0);
  // One refresh per tab: a rotation, and either a second rotation or a grace answer.
  expect(after.refreshes - before.refreshes).toBe(2);
});
