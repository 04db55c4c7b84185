import { expect, test } from "./fixtures";
import { DEMO, errorToastsShown, hydrated } from "./helpers";

// A browser set to Chinese, as the seed's users' are.
test.use({ locale: "zh-CN" });

test("a Chinese browser gets Chinese from the first byte, one Chinese toast when the session is lost, and English for good after switching", async ({
  page,
}) => {
  // The server's HTML itself, before any WASM runs.
  const response = await page.goto("/login");
  expect(response!.headers()["vary"]).toContain("Accept-Language");
  const html = await response!.text();
  expect(html).toContain('<html lang="zh-CN"');
  expect(html).toContain("客户编码");
  expect(html).toContain("<title>登录 · painless</title>");
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("登录");

  // Log in (labels are Chinese; the fields keep their ids).
  await page.locator("#customer_code").fill(DEMO.code);
  await page.locator("#username").fill(DEMO.username);
  await page.locator("#password").fill(DEMO.password);
  await page.locator("#password").press("Enter");
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("h1")).toHaveText("概览");
  await expect(page.locator("#panel-profile [data-loaded]")).toBeVisible();
  await expect(page.locator("#panel-profile dd").nth(3)).toHaveText(/^\d{4}年\d{1,2}月\d{1,2}日$/);

  // Lose the session behind the page's back: the next requests' refresh is refused.
  await page.getByRole("link", { name: "刷新实验室" }).click();
  await expect(page.locator("#fire")).toBeEnabled();
  await page.locator("#expire").click();
  await expect(page.locator(".toast-success", { hasText: "42001" })).toBeVisible();
  await page.locator("#revoke").click();
  await expect(page.locator(".toast-success", { hasText: "吊销" })).toBeVisible();
  await page.locator("#fire").click();

  await expect(page).toHaveURL(/\/login\?redirect=%2Flab&code=ACME$/);
  await expect(page.locator(".toast-error")).toHaveCount(1);
  await expect(page.locator(".toast-error")).toContainText("自动登录失败,请重新登录");
  expect(await errorToastsShown(page)).toBe(1);

  // The switcher: English at once, without a reload ...
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.locator("#lang-en").click();
  await expect(page.locator("h1")).toHaveText("Log in");
  await expect(page.locator("label[for=customer_code]")).toHaveText("Customer code");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page).toHaveTitle("Log in · painless");
  await expect(page.locator("#lang-en")).toHaveAttribute("aria-pressed", "true");
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

  // ... and for the next page load too, although the browser still asks for Chinese.
  const again = await page.reload();
  const englishHtml = await again!.text();
  expect(englishHtml).toContain('<html lang="en"');
  expect(englishHtml).toContain("Customer code");
  await hydrated(page);
  await expect(page.locator("h1")).toHaveText("Log in");

  // And back: the page and the server's errmsg follow the choice.
  await page.locator("#lang-zh-CN").click();
  await expect(page.locator("h1")).toHaveText("登录");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  const refused = await page.request.post("/api/auth/refresh");
  expect(await refused.json()).toMatchObject({ errcode: 42002, errmsg: "会话已结束，请重新登录" });
});
