import { defineConfig } from "@playwright/test";

// The server under test: started by `cargo leptos end-to-end` (or by hand) at
// LEPTOS_SITE_ADDR; global-setup waits until it answers. Beside it, global-setup starts
// the same release binary with `server.auth_errors = "http"` on the next port, for the
// refresh-flow and tabs specs a second time (project chromium-http).
const siteAddr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";
const [host, port] = siteAddr.split(":");
export const httpModeAddr = `${host}:${Number(port) + 1}`;
// scripts/with-proxy.sh sets PROXY_BASE: nginx over HTTPS in front of two instances,
// where Web Locks and BroadcastChannel behave as on a real site (project chromium-proxy).
const proxyBase = process.env.PROXY_BASE;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // One server, one demo user: run the files one after another.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  reporter: [["list"], ["json", { outputFile: "test-results/results.json" }]],
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: `http://${siteAddr}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // Debian's Chromium; `npx playwright install` cannot download browsers here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "chromium", use: { browserName: "chromium" } },
    {
      name: "chromium-http",
      testMatch: ["refresh-flow.spec.ts", "tabs.spec.ts"],
      use: {
        browserName: "chromium",
        baseURL: `http://${httpModeAddr}`,
        // Refusals answer 400/401/403 in this mode; Chromium logs each failed load.
        refusalStatuses: [400, 401, 403],
      },
    },
    ...(proxyBase
      ? [
          {
            name: "chromium-proxy",
            testMatch: ["refresh-flow.spec.ts", "tabs.spec.ts"],
            // The certificate is made by the script for the run.
            use: { browserName: "chromium" as const, baseURL: proxyBase, ignoreHTTPSErrors: true },
          },
        ]
      : []),
  ],
});
