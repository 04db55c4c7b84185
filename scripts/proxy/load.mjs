// Clients of scripts/with-proxy.sh: each logs in as the demo user through the proxy, then
// calls the API in a loop for a while and refreshes whenever its short-lived access token
// is refused, as the app does, against instances in the http mode. Prints one JSON line:
// answers, refreshes, failed answers (no answer, a status other than 200/400/401 or no
// envelope, an errcode that is neither 0 nor a refresh one), sessions lost (a refresh
// refused with 42002) and the longest answer.
//
//   NODE_EXTRA_CA_CERTS=cert.pem node scripts/proxy/load.mjs <base URL> <clients> <seconds>
const [base, clientsArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const until = Date.now() + Number(secondsArg) * 1000;
const REFRESH_CODES = new Set([30001, 40001, 42001, 40014]);
const totals = { answers: 0, refreshes: 0, failed: 0, lost: 0, longest_ms: 0, failures: [] };

const cookieOf = (response) =>
  response.headers
    .getSetCookie()
    .map((c) => /^(__Host-painless_refresh|painless_refresh)=([^;]*)/.exec(c))
    .filter(Boolean)
    .map((m) => `${m[1]}=${m[2]}`)[0];

/** One call, timed; its JSON body, or null if it failed (counted). The instances answer
 * in the http mode: a refused token is a 401 and a refused refresh a 400, each with the
 * envelope, which is what counts. */
async function call(path, init) {
  const started = performance.now();
  try {
    const response = await fetch(`${base}${path}`, init);
    const body = await response.json().catch(() => null);
    totals.longest_ms = Math.max(totals.longest_ms, performance.now() - started);
    if (![200, 400, 401].includes(response.status) || body === null) {
      fail(`${init?.method ?? "GET"} ${path}: HTTP ${response.status}`);
      return null;
    }
    return { body, response };
  } catch (error) {
    fail(`${init?.method ?? "GET"} ${path}: ${error.cause?.code ?? error.message}`);
    return null;
  }
}

function fail(what) {
  totals.failed += 1;
  if (totals.failures.length < 20) totals.failures.push(`${new Date().toISOString()} ${what}`);
}

const pause = (ms) => new Promise((done) => setTimeout(done, ms));

async function client(index) {
  // Clients arrive over a second, and a login answered "busy" (50300, a 503 with
  // Retry-After: every hashing worker of the instance taken) is tried again, as the app does.
  await pause(index * 20);
  let login = null;
  for (let attempt = 0; attempt < 5 && !login; attempt += 1) {
    const answer = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ customer_code: "ACME", username: "demo", password: "demo-password" }),
    });
    const body = await answer.json();
    if (answer.status === 503 && body.errcode === 50300) {
      await pause(1000 * Number(answer.headers.get("retry-after") ?? 1));
      continue;
    }
    login = { body, response: answer };
  }
  if (!login || login.body.errcode !== 0) {
    fail(`login: ${JSON.stringify(login?.body)}`);
    return;
  }
  let token = login.body.data.access_token;
  let cookie = cookieOf(login.response);
  while (Date.now() < until) {
    // About twenty calls a second per client, as a busy page would make.
    await pause(50);
    const me = await call("/api/me", { headers: { authorization: `Bearer ${token}` } });
    if (!me) continue;
    totals.answers += 1;
    const code = me.body.errcode;
    if (code === 0) continue;
    if (!REFRESH_CODES.has(code)) {
      fail(`GET /api/me: errcode ${code}`);
      continue;
    }
    const refreshed = await call("/api/auth/refresh", { method: "POST", headers: { cookie } });
    if (!refreshed) continue;
    totals.answers += 1;
    if (refreshed.body.errcode !== 0) {
      totals.lost += 1;
      if (totals.failures.length < 20) totals.failures.push(`session lost: ${refreshed.body.errcode}`);
      return;
    }
    totals.refreshes += 1;
    token = refreshed.body.data.access_token;
    cookie = cookieOf(refreshed.response) ?? cookie;
  }
}

await Promise.all(Array.from({ length: clients }, (_, index) => client(index)));
totals.longest_ms = Math.round(totals.longest_ms);
console.log(JSON.stringify(totals));
