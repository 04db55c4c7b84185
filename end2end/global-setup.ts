import type { FullConfig } from "@playwright/test";

import { spawnServer } from "./tests/servers";

// `cargo leptos end-to-end` starts the server and the tests at the same time, so wait
// until the API answers its health check instead of hoping it is up. Then start the
// http-mode server of project chromium-http, if that project runs; the returned function
// stops it when the run ends.
export default async function globalSetup(config: FullConfig) {
  // Through the proxy of scripts/with-proxy.sh, its instances are the servers.
  if (process.env.PROXY_BASE) return waitFor(process.env.PROXY_BASE);
  await waitFor(config.projects[0].use.baseURL as string);
  const http = config.projects.find((project) => project.name === "chromium-http");
  if (!http) return;
  const addr = new URL(http.use.baseURL as string).host;
  const server = await spawnServer({ PAINLESS_SERVER__AUTH_ERRORS: "http" }, addr);
  // The project proves nothing unless this server really answers in the http mode.
  const unauthenticated = await fetch(`${server.base}/api/me`);
  if (unauthenticated.status !== 401) {
    await server.stop();
    throw new Error(`the http-mode server answered ${unauthenticated.status} without a token`);
  }
  return server.stop;
}

async function waitFor(baseURL: string) {
  const deadline = Date.now() + 120_000;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseURL}/api/health`);
      const body = await response.json();
      if (body.errcode === 0) return;
      lastError = `health answered ${JSON.stringify(body)}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server at ${baseURL} did not come up within 120 s: ${lastError}`);
}
