import { expect, test } from "./fixtures";
import {
  countRequests,
  errorToastsShown,
  expireToken,
  fireBurst,
  logIn,
  openLab,
  sessionCounters,
} from "./helpers";

// The real network: offline in the middle of a burst, a refresh answer lost on the way,
// a laptop that slept. Only a refused refresh ends a session; none of these does. (A
// page's chunk that does not load: `hydration.spec.ts`; a server restarted in the middle
// of steady traffic: `scripts/native-example.sh`.)

const REFRESH = "/api/auth/refresh";

test("a burst fired offline waits, with one notice, and is answered once the network is back", async ({
  page,
  context,
}) => {
  await logIn(page);
  await openLab(page);
  await expireToken(page);
  const before = await sessionCounters(page.request);
  const refreshCalls = countRequests(page, REFRESH);

  await context.setOffline(true);
  await fireBurst(page, 10);
  const notice = page.locator("#offline-notice");
  await expect(notice).toBeVisible();
  await expect(notice).toHaveText("You are offline: requests wait for the network");
  await expect(page.locator("#phase")).toHaveText("Waiting for the network");
  // Five seconds without a network: the scenario's length, not a wait for a result.
  await page.waitForTimeout(5_000);
  await expect(page.locator("#burst-summary"), "no request of the burst has ended").toHaveCount(0);
  expect(refreshCalls(), "nothing is sent offline, the refresh included").toBe(0);
  await context.setOffline(false);

  const summary = page.locator("#burst-summary");
  await expect(summary).toHaveAttribute("data-ok", "10");
  await expect(summary).toHaveAttribute("data-failed", "0");
  await expect(notice).toBeHidden();
  expect(refreshCalls()).toBe(1);
  expect(await errorToastsShown(page)).toBe(0);
  await expect(page).toHaveURL(/\/lab$/);
  await expect(page.locator("#lab-timeline .chip-offline").first()).toBeVisible();
  const after = await sessionCounters(page.request);
  expect(after.refreshes - before.refreshes).toBe(1);
  expect(after.reuse_detections).toBe(0);
});

test.describe("with the browser's report of the failed fetch", () => {
  test.use({ expectedConsoleErrors: [/net::ERR_CONNECTION_RESET/] });
  test("a refresh answer lost after the server rotated costs no session, then or at the next expiry", async ({
    page,
    context,
  }) => {
    await logIn(page);
    await openLab(page);
    await expireToken(page);
    const before = await sessionCounters(page.request);
    const refreshCalls = countRequests(page, REFRESH);
    // The first refresh reaches the server, which rotates the token and answers; the answer
    // never reaches the browser, which keeps the spent cookie.
    let lost = false;
    await page.route(`**${REFRESH}`, async (route) => {
      if (lost) return route.continue();
      lost = true;
      const cookies = await context.cookies();
      const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
      const request = route.request();
      const answer = await fetch(request.url(), {
        method: "POST",
        headers: { ...(await request.allHeaders()), cookie },
      });
      expect((await answer.json()).errcode, "the server rotated").toBe(0);
      await route.abort("connectionreset");
    });

    await fireBurst(page, 5);

    const summary = page.locator("#burst-summary");
    await expect(summary).toHaveAttribute("data-ok", "5");
    await expect(summary).toHaveAttribute("data-failed", "0");
    expect(refreshCalls(), "tried again after the lost answer").toBe(2);
    const repaired = await sessionCounters(page.request);
    expect(repaired.rotations - before.rotations).toBe(1);
    expect(repaired.grace_refreshes - before.grace_refreshes).toBe(1);
    expect(repaired.reuse_detections).toBe(0);

    // The cookie of the grace answer works for the next rotation, past the grace window's
    // reach: the next expiry refreshes as usual.
    await expireToken(page);
    await fireBurst(page, 10);
    await expect(summary).toHaveAttribute("data-ok", "10");
    await expect(summary).toHaveAttribute("data-failed", "0");
    const later = await sessionCounters(page.request);
    expect(later.rotations - before.rotations).toBe(2);
    expect(later.reuse_detections).toBe(0);
    expect(await errorToastsShown(page)).toBe(0);
    await expect(page).toHaveURL(/\/lab$/);
  });
});

test("a tab whose clock jumped two hours refreshes once when it is shown, before its next burst", async ({
  page,
}) => {
  await page.clock.install();
  await logIn(page);
  await openLab(page);
  const refreshCalls = countRequests(page, REFRESH);

  // The laptop slept: the tab's clock moved on and no timer ran.
  await page.clock.fastForward("02:00:00");
  for (let i = 0; i < 12; i++) {
    await page.evaluate(() => {
      document.dispatchEvent(new Event("visibilitychange"));
      window.dispatchEvent(new Event("focus"));
    });
  }
  await expect.poll(refreshCalls).toBe(1);

  await fireBurst(page, 5);
  const summary = page.locator("#burst-summary");
  await expect(summary).toHaveAttribute("data-ok", "5");
  expect(refreshCalls(), "a dozen wake events, one refresh").toBe(1);
  // The app never saw a refused token: the burst went out with the fresh one.
  await expect(page.locator("#lab-timeline .chip-errcode")).toHaveCount(0);
  expect(await errorToastsShown(page)).toBe(0);
});
