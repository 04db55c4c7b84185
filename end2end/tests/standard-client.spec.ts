import { test, expect } from "@playwright/test";
import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from "axios";
import { createAuthRefresh, type AxiosAuthRefreshRequestConfig } from "axios-auth-refresh";

import { DEMO } from "./helpers";
import { spawnServer, type SpawnedServer } from "./servers";

// A standard client, unmodified: axios with axios-auth-refresh 5.0.2, set up as its README
// shows — the token added by a request interceptor, the refresh on the plain axios
// instance with `skipAuthRefresh`, and `deduplicateRefresh: false`, the library's
// documented fix for concurrent 401s (its issue #307: with the default, a 401 that
// arrives while the refresh runs is rejected). It keys on the HTTP status, so it works
// against `server.auth_errors = "http"` and not against the seed's envelope mode.
// No browser: these run in Node, against servers of their own.

const CONCURRENT = 10;

/** The client, its token and refresh cookie, and what it sent. */
function standardClient(base: string) {
  const held = { token: "", cookie: "", refreshCalls: 0, calls: 0 };
  const keepCookie = (answer: AxiosResponse) => {
    const set = answer.headers["set-cookie"] ?? [];
    const refresh = set.map((c: string) => /^painless_refresh=([^;]*)/.exec(c)?.[1]).find(Boolean);
    if (refresh) held.cookie = refresh;
  };
  const api = axios.create({ baseURL: base });
  api.interceptors.request.use((request: InternalAxiosRequestConfig) => {
    held.calls += 1;
    request.headers["Authorization"] = `Bearer ${held.token}`;
    return request;
  });
  const refreshAuthLogic = (failedRequest: { response: AxiosResponse }) => {
    held.refreshCalls += 1;
    return axios
      .post(`${base}/api/auth/refresh`, null, {
        headers: { cookie: `painless_refresh=${held.cookie}` },
        skipAuthRefresh: true,
      } as AxiosAuthRefreshRequestConfig)
      .then((answer) => {
        held.token = answer.data.data.access_token;
        keepCookie(answer);
        failedRequest.response.config.headers["Authorization"] = `Bearer ${held.token}`;
      });
  };
  createAuthRefresh(api, refreshAuthLogic, { deduplicateRefresh: false });

  const login = async () => {
    const answer = await axios.post(`${base}/api/auth/login`, {
      customer_code: DEMO.code,
      username: DEMO.username,
      password: DEMO.password,
    });
    held.token = answer.data.data.access_token;
    keepCookie(answer);
  };
  /** The refresh lab's controls, on this client's session. */
  const lab = (action: "expire" | "revoke") =>
    axios.post(`${base}/api/demo/${action}`, null, {
      headers: { cookie: `painless_refresh=${held.cookie}` },
    });
  return { api, held, login, lab };
}

test.describe("axios-auth-refresh against the http mode", () => {
  let server: SpawnedServer;
  test.beforeAll(async () => {
    server = await spawnServer({ PAINLESS_SERVER__AUTH_ERRORS: "http" });
  });
  test.afterAll(async () => server?.stop());

  test("ten concurrent calls across an expiry get ten answers with one refresh each time", async () => {
    const client = standardClient(server.base);
    await client.login();
    for (let expiry = 1; expiry <= 3; expiry += 1) {
      // The lab's "expire": every access token of the session answers 401 from now on.
      await client.lab("expire");
      const before = client.held.refreshCalls;
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT }, () => client.api.get("/api/me")),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.data.errcode).toBe(0);
        expect(answer.data.data.user.username).toBe(DEMO.username);
      }
      // One, or two: the library forgets its refresh once it settles, so a 401 that
      // arrives after that starts another (our coordinator replays it instead).
      const refreshes = client.held.refreshCalls - before;
      expect(refreshes, `refresh calls at expiry ${expiry}`).toBeGreaterThanOrEqual(1);
      expect(refreshes, `refresh calls at expiry ${expiry}`).toBeLessThanOrEqual(2);
    }
  });

  test("a refused refresh rejects every caller, and nothing loops", async () => {
    const client = standardClient(server.base);
    await client.login();
    await client.lab("revoke");
    const outcomes = await Promise.allSettled(
      Array.from({ length: CONCURRENT }, () => client.api.get("/api/me")),
    );
    for (const outcome of outcomes) {
      expect(outcome.status).toBe("rejected");
      const status = outcome.status === "rejected" ? outcome.reason?.response?.status : 0;
      // The 401 of the call, or the refresh's own refusal (400, 42002).
      expect([400, 401]).toContain(status);
    }
    // Each call was sent once, and each 401 started at most one refresh.
    expect(client.held.calls).toBe(CONCURRENT);
    expect(client.held.refreshCalls).toBeGreaterThanOrEqual(1);
    expect(client.held.refreshCalls).toBeLessThanOrEqual(CONCURRENT);
  });
});

test("against the envelope mode the same client never refreshes: an expired token looks like a success", async ({
  baseURL,
}) => {
  const client = standardClient(baseURL!);
  await client.login();
  await client.lab("expire");
  const answers = await Promise.all(
    Array.from({ length: CONCURRENT }, () => client.api.get("/api/me")),
  );
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.data.errcode).toBe(30001);
  }
  expect(client.held.refreshCalls).toBe(0);
});
