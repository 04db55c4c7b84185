import { expect, test } from "./fixtures";
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

test("pages are served with a nonce-based CSP and still hydrate", async ({ page }) => {
  const response = await page.goto("/login");
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
});
