import { expect, test } from "./fixtures";
import { hydrated, logIn } from "./helpers";

test("signing out everywhere else ends the other browser's session", async ({ page, browser }) => {
  const elsewhere = await browser.newContext();
  const other = await elsewhere.newPage();
  await logIn(other);
  await logIn(page);

  // From the dashboard, where the profile panel links to the sessions page.
  await page.getByRole("link", { name: "Your sessions →" }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await hydrated(page);
  const rows = page.locator("#sessions tbody tr");
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  await expect(page.locator("#sessions tr.current")).toHaveCount(1);

  await page.locator("#end-others").click();
  const summary = page.locator("#ended-summary");
  await expect(summary).toBeVisible();
  expect(Number(await summary.getAttribute("data-ended"))).toBeGreaterThanOrEqual(1);
  await expect(rows).toHaveCount(1);

  // The other browser's session is over: the server sends it to the login page.
  await other.goto("/orders");
  await expect(other).toHaveURL(/\/login\?redirect=%2Forders/);
  await elsewhere.close();
});
