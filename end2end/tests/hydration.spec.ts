import { expect, test } from "@playwright/test";
import { hydrated } from "./helpers";

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
