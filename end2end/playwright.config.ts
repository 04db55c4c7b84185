import { defineConfig } from "@playwright/test";

// The server under test: started by `cargo leptos end-to-end` (or by hand) at
// LEPTOS_SITE_ADDR; global-setup waits until it answers.
const siteAddr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";
// scripts/with-proxy.sh sets PROXY_BASE: nginx over HTTPS in front of two instances with
// `server.auth_errors = "http"`, where the refresh-flow and tabs specs run a second time
// (project chromium-proxy): the other mode, and Web Locks, BroadcastChannel and the
// __Host- cookie as on a real site.
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
    ...(proxyBase
      ? [
          {
            name: "chromium-proxy",
            testMatch: ["refresh-flow.spec.ts", "tabs.spec.ts"],
            // The certificate is made by the script for the run.
            use: {
              browserName: "chromium" as const,
              baseURL: proxyBase,
              ignoreHTTPSErrors: true,
              // Refusals answer 400/401/403 in the http mode; Chromium logs each failed load.
              refusalStatuses: [400, 401, 403],
            },
          },
        ]
      : []),
  ],
});
