// The peers of scripts/bench-peers.sh, in Node with axios (from end2end/node_modules):
//
//   node scripts/bench/peers.mjs <axios-auth-refresh | seed-interceptor> <base URL> <requests> <rounds> <clients>
//
// - axios-auth-refresh: axios with axios-auth-refresh 5.0.2, set up as its README shows
//   (deduplicateRefresh: false, the refresh call with skipAuthRefresh), against a server
//   with auth_errors = "http".
// - seed-interceptor: an interceptor written to the seed post's logic — the
//   `isRefreshing` flag and the `retryRequests` array, the token in the query string,
//   bugs included (a failed refresh leaves the queued callers waiting forever; a refused
//   answer that arrives after the refresh settled starts another) — its Vue and Element
//   calls stubbed; written for this bench, not copied. Against the envelope mode.
//
// Each round expires the session's access tokens (the lab's control) and fires the
// requests at once from each of `clients` clients sharing the session, as tabs in
// separate processes would; it prints one `peers:` line per round and client, as the
// library's native example does for our coordinator.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
const axios = require("axios");
const { createAuthRefresh } = require("axios-auth-refresh");

const [kind, base, requests, rounds, clients] = process.argv.slice(2);
const N = Number(requests);
const REFRESH_CODES = [30001, 40001, 42001, 40014];
/** How long a call may take before it counts as never settled. */
const SETTLE_WITHIN_MS = 5_000;

const cookieOf = (answer) =>
  (answer.headers["set-cookie"] ?? [])
    .map((c) => /^painless_refresh=([^;]*)/.exec(c)?.[1])
    .find(Boolean);

/** What every client keeps and counts. */
function newHeld(token, cookie) {
  return { token, cookie, refreshCalls: 0, firstRefused: null };
}

function refreshingClient(held) {
  const api = axios.create({ baseURL: base });
  api.interceptors.request.use((request) => {
    request.headers["Authorization"] = `Bearer ${held.token}`;
    return request;
  });
  api.interceptors.response.use(undefined, (error) => {
    if (error?.response?.status === 401) held.firstRefused ??= performance.now();
    return Promise.reject(error);
  });
  createAuthRefresh(
    api,
    (failedRequest) => {
      held.refreshCalls += 1;
      return axios
        .post(`${base}/api/auth/refresh`, null, {
          headers: { cookie: `painless_refresh=${held.cookie}` },
          skipAuthRefresh: true,
        })
        .then((answer) => {
          held.token = answer.data.data.access_token;
          held.cookie = cookieOf(answer) ?? held.cookie;
          failedRequest.response.config.headers["Authorization"] = `Bearer ${held.token}`;
        });
    },
    { deduplicateRefresh: false },
  );
  return (path) => api.get(path);
}

function seedClient(held) {
  // The stubs: Vuex's loading counter and relogin, the router, Element's Message.
  const Store = {
    loading: 0,
    commit(what) {
      this.loading += what === "startLoading" ? 1 : -1;
    },
    dispatch() {
      held.refreshCalls += 1;
      return axios
        .post(`${base}/api/auth/refresh`, null, { headers: { cookie: `painless_refresh=${held.cookie}` } })
        .then((answer) => {
          if (answer.data.errcode !== 0) throw answer.data;
          held.token = answer.data.data.access_token;
          held.cookie = cookieOf(answer) ?? held.cookie;
          return { Token: held.token, AppKey: "ACME" };
        });
    },
  };
  const Router = { currentRoute: { path: "/", fullPath: "/" }, replace() {} };
  const Message = { error() {} };

  const Instance = axios.create({ baseURL: base });
  let isRefreshing = false;
  let retryRequests = [];
  Instance.interceptors.request.use(async (config) => {
    Store.commit("startLoading");
    config.params = Object.assign(config.params ? config.params : {}, { appkey: "ACME", token: held.token });
    return config;
  });
  Instance.interceptors.response.use(
    async (response) => {
      Store.commit("finishLoading");
      const res = response.data;
      if (res.errcode == 0) return res;
      if (REFRESH_CODES.includes(res.errcode)) {
        held.firstRefused ??= performance.now();
        const config = response.config;
        if (Router.currentRoute.path !== "/login") {
          if (!isRefreshing) {
            isRefreshing = true;
            return Store.dispatch("user/relogin")
              .then((info) => {
                config.params.token = info.Token;
                config.params.appkey = info.AppKey;
                retryRequests.forEach((cb) => cb(info));
                retryRequests = [];
                return Instance.request(config);
              })
              .catch(() => {
                retryRequests = [];
                Message.error("自动登录失败,请重新登录");
              })
              .finally(() => {
                isRefreshing = false;
              });
          }
          return new Promise((resolve) => {
            retryRequests.push((info) => {
              config.params.token = info.Token;
              config.params.appkey = info.AppKey;
              resolve(Instance.request(config));
            });
          });
        }
        return new Promise(() => {});
      }
      return Promise.reject(res);
    },
    (error) => {
      Store.commit("finishLoading");
      return Promise.reject({ errcode: error.response?.status ?? -1, errmsg: error.message });
    },
  );
  return (path) => Instance.get(path).then((res) => ({ data: res }));
}

const never = Symbol("never settled");
const within = (promise) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(never), SETTLE_WITHIN_MS))]);

async function main() {
  const login = await axios.post(`${base}/api/auth/login`, {
    customer_code: "ACME",
    username: "demo",
    password: "demo-password",
  });
  const token = login.data.data.access_token;
  const cookie = cookieOf(login);
  const helds = Array.from({ length: Number(clients) }, () => newHeld(token, cookie));
  const make = kind === "seed-interceptor" ? seedClient : refreshingClient;
  const gets = helds.map(make);
  for (let round = 1; round <= Number(rounds); round += 1) {
    const expired = await axios.post(`${base}/api/demo/expire`, null, {
      headers: { cookie: `painless_refresh=${helds[0].cookie}` },
    });
    if (expired.data.errcode !== 0) throw new Error(`expire answered ${JSON.stringify(expired.data)}`);
    const before = helds.map((held) => held.refreshCalls);
    helds.forEach((held) => (held.firstRefused = null));
    const bursts = gets.map(async (get, index) => {
      const outcomes = await Promise.all(
        Array.from({ length: N }, () =>
          within(
            get("/api/me").then(
              (answer) => (answer?.data?.errcode === 0 ? "ok" : "failed"),
              () => "failed",
            ),
          ),
        ),
      );
      return { index, outcomes, ended: performance.now() };
    });
    for (const { index, outcomes, ended } of await Promise.all(bursts)) {
      const held = helds[index];
      const count = (what) => outcomes.filter((outcome) => outcome === what).length;
      // A call that never settled ends the round when the wait for it does.
      const stall = held.firstRefused === null ? 0 : ended - held.firstRefused;
      console.log(
        `peers: client=${kind} tab=${index + 1} round=${round} answers=${count("ok")} ` +
          `failed=${count("failed")} never_settled=${count(never)} ` +
          `refresh_calls=${held.refreshCalls - before[index]} stall_ms=${stall.toFixed(1)}`,
      );
    }
  }
  process.exit(0);
}

main().catch((error) => {
  console.error(`peers: ${error.stack ?? error}`);
  process.exit(1);
});
