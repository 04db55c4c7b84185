#!/usr/bin/env bash
# Our coordinator beside its peers, in one run, on the same workload: the session's access
# tokens expire (the lab's control) and N requests go out at once, over several expiries,
# from one client and then from two sharing the session as two tabs in separate processes
# would. The clients:
#   ours                the library's coordinator (its native example, --expiries), against
#                       the envelope mode
#   axios-auth-refresh  axios + axios-auth-refresh 5.0.2 as its README shows, against the
#                       http mode (scripts/bench/peers.mjs)
#   seed-interceptor    the seed post's isRefreshing + retryRequests logic, bugs included,
#                       against the envelope mode (scripts/bench/peers.mjs)
# For each: refresh calls per expiry (all clients of the session together), answers that
# failed or never settled (5 s), and the stall from a client's first refused answer to its
# last answer, p50 and p99 over every round and client. A report, not a pass/fail test;
# scripts/bench.sh prints it as a row group of its own.
#
#   scripts/bench-peers.sh             10 requests, 20 expiries
#   PEERS_REQUESTS=50 PEERS_ROUNDS=40 scripts/bench-peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

requests=${PEERS_REQUESTS:-10}
rounds=${PEERS_ROUNDS:-20}
binary=${BENCH_BINARY:-target/release/painless}
[[ -x "$binary" ]] || { echo "peers: no $binary; build it with cargo leptos build --release --precompress --split" >&2; exit 1; }
[[ -d end2end/node_modules/axios-auth-refresh ]] || { echo "peers: no axios-auth-refresh; run scripts/setup.sh --e2e" >&2; exit 1; }
cargo build --release -p painless-refresh --example native >&2
native=target/release/examples/native

work=$(mktemp -d)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
# Two servers from the repository's root (the demo Leptos.toml: demo mode for the lab's
# control, query tokens for the seed's client), tokens that outlive the run.
declare -A bases
for mode in envelope http; do
    mkdir -p "$work/$mode"
    start_server "peers ($mode)" "$binary" "$work/$mode" PAINLESS_SERVER__AUTH_ERRORS="$mode" \
        PAINLESS_TOKENS__ACCESS_TTL_SECS=3600 PAINLESS_TOKENS__IDLE_TTL_SECS=7200
    pids+=("$server_pid")
    bases[$mode]=$server_base
done

lines="$work/lines"
for clients in 1 2; do
    "$native" "${bases[envelope]}" ACME demo demo-password "$requests" --expiries "$rounds" --tabs "$clients" |
        grep '^peers:' | sed "s/^peers:/peers: clients=$clients/" >>"$lines"
    node scripts/bench/peers.mjs axios-auth-refresh "${bases[http]}" "$requests" "$rounds" "$clients" |
        sed "s/^peers:/peers: clients=$clients/" >>"$lines"
    # The seed's client can end the session itself (below); a new login per run.
    node scripts/bench/peers.mjs seed-interceptor "${bases[envelope]}" "$requests" "$rounds" "$clients" |
        sed "s/^peers:/peers: clients=$clients/" >>"$lines" || echo "peers: the seed's client stopped early (its session ended)" >&2
done

python3 - "$lines" "$requests" "$rounds" <<'EOF'
import collections, statistics, sys

lines, requests, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = collections.defaultdict(list)
for line in open(lines):
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    runs[(fields["client"], int(fields["clients"]))].append(fields)

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else 0.0

print(f"| client | clients | expiries run | refresh calls per expiry (mean / max) | answers ok | failed | never settled | stall p50 | stall p99 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for client in ("ours", "axios-auth-refresh", "seed-interceptor"):
    for clients in (1, 2):
        rows = runs.get((client, clients), [])
        per_round = collections.Counter()
        for row in rows:
            per_round[int(row["round"])] += int(row["refresh_calls"])
        calls = list(per_round.values()) or [0]
        total = lambda key: sum(int(row.get(key, 0)) for row in rows)
        stalls = [float(row["stall_ms"]) for row in rows]
        print(f"| {client} | {clients} | {len(per_round)} of {rounds} | "
              f"{statistics.mean(calls):.2f} / {max(calls)} | {total('answers')} of {requests * clients * rounds} | "
              f"{total('failed')} | {total('never_settled')} | "
              f"{percentile(stalls, 50):.1f} ms | {percentile(stalls, 99):.1f} ms |")
EOF
