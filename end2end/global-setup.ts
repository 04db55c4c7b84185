import type { FullConfig } from "@playwright/test";

// `cargo leptos end-to-end` starts the server and the tests at the same time, so wait
// until the API answers its health check instead of hoping it is up (through the proxy
// of scripts/with-proxy.sh, its instances are the servers).
export default async function globalSetup(config: FullConfig) {
  await waitFor(process.env.PROXY_BASE ?? (config.projects[0].use.baseURL as string));
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
