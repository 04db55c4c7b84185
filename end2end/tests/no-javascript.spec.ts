import { expect, test } from "./fixtures";
import { DEMO, login } from "./helpers";

// The browser never runs the WASM: the login and logout forms post to the server.
test.use({ javaScriptEnabled: false });

test("without JavaScript the login form logs in and lands on the redirect target", async ({ page }) => {
  await page.goto("/orders");
  await expect(page).toHaveURL(/\/login\?redirect=%2Forders$/);
  await login.code(page).fill(DEMO.code);
  await login.username(page).fill(DEMO.username);
  await login.password(page).fill(DEMO.password);
  await login.submit(page).click();

  await expect(page).toHaveURL(/\/orders$/);
  await expect(page.locator(".who-name")).toHaveText(DEMO.name);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/orders");
  await expect(page, "the session is over").toHaveURL(/\/login\?redirect=%2Forders$/);
});

test("without JavaScript a failed login comes back with the error next to the form", async ({ page }) => {
  await page.goto("/login?redirect=/orders");
  await login.code(page).fill(DEMO.code);
  await login.username(page).fill(DEMO.username);
  await login.password(page).fill("not-the-password");
  await login.submit(page).click();

  await expect(page).toHaveURL(/\/login\?redirect=%2Forders&code=ACME&error=40101$/);
  await expect(page.locator("#login-error")).toHaveText("Customer code, username or password is incorrect.");
  await expect(login.code(page), "the customer code is kept").toHaveValue(DEMO.code);
});
