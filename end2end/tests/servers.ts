import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** A release server of this repository started by a spec, with settings of its own. */
export interface SpawnedServer {
  base: string;
  stop: () => Promise<void>;
}

const repository = resolve(__dirname, "../..");

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/**
 * Starts `target/release/painless` (built by `cargo leptos end-to-end` before the specs
 * run) from the repository's root, so that it reads the demo `Leptos.toml`, at `addr` (a
 * free loopback port if none) with a data directory of its own, with `env` on top (the
 * `PAINLESS_*` settings). Resolves once it answers its health check.
 */
export async function spawnServer(env: Record<string, string>, addr?: string): Promise<SpawnedServer> {
  addr ??= `127.0.0.1:${await freePort()}`;
  const data = mkdtempSync(join(tmpdir(), "painless-e2e-"));
  const base = `http://${addr}`;
  const child: ChildProcess = spawn(join(repository, "target/release/painless"), [], {
    cwd: repository,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: addr,
      PAINLESS_SERVER__DATA_DIR: data,
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk) => (log += chunk));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const health = await fetch(`${base}/api/health`);
      if (health.ok) return { base, stop };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  await stop();
  throw new Error(`the server with ${JSON.stringify(env)} did not start:\n${log}`);
}
