#!/usr/bin/env bash
# Lets two tools that attackers use try the release binary on loopback, with the demo
# configuration (Leptos.toml: demo mode and query tokens on, a generated signing key):
#  - myjwt forges access tokens from a real one — alg none, an RS public key as the HMAC
#    key (key confusion), kid injection (SQL and path traversal), jku and x5u headers
#    pointing elsewhere, a stripped signature, a changed payload, another algorithm — and
#    each is sent to /api/me as a bearer token and as the query token: every one must be
#    refused. Then a wordlist attack on the generated key: it must not be found, while the
#    same wordlist does find a weak key (so a miss means the key is strong, not that the
#    tool failed).
#  - wapiti3 scans the pages and, from the OpenAPI document, /api, signed in, for XSS,
#    injection, open redirect, CRLF, headers, CSRF and cookie flags, bounded in time:
#    every finding above informational must be one this script names as explained
#    (docs/security.md says why each is not a weakness).
#
#   scripts/attack.sh     about 15 s; run by scripts/test.sh (ATTACK_KEEP=1 keeps the
#                         reports and the server log, and says where)
#
# Uses target/release/painless (ATTACK_BINARY overrides) and target/attack-venv, which
# scripts/setup.sh --e2e installs from scripts/attack/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

venv=target/attack-venv
binary=${ATTACK_BINARY:-target/release/painless}
[[ -x "$venv/bin/myjwt" && -x "$venv/bin/wapiti" ]] || { echo "attack: no myjwt or wapiti; run scripts/setup.sh --e2e" >&2; exit 1; }
[[ -x "$binary" ]] || { echo "attack: no $binary; build it with cargo leptos build --release --precompress --split" >&2; exit 1; }

work=$(mktemp -d)
trap 'stop_server; if [[ -n "${ATTACK_KEEP:-}" ]]; then echo "attack: kept $work"; else rm -rf "$work"; fi' EXIT
# Tokens that outlive the scan; the address throttle lifted for the scan's many logins.
start_server attack "$binary" "$work" PAINLESS_TOKENS__ACCESS_TTL_SECS=1200 \
    PAINLESS_LOGIN__MAX_FAILURES_PER_ADDRESS=1000000000
base=$server_base
failed=0
fail() {
    echo "attack: $*" >&2
    failed=1
}

login=$(curl -fsS -c "$work/cookies" -H 'content-type: application/json' \
    -d '{"customer_code":"ACME","username":"demo","password":"demo-password"}' "$base/api/auth/login")
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])' <<<"$login")
refresh=$(awk '$6 == "painless_refresh" { print $7 }' "$work/cookies")

# The errcode /api/me answers for a token, as a bearer token and as the query token.
errcode_of() {
    local by_header by_query
    by_header=$(curl -sS -H "authorization: Bearer $1" "$base/api/me")
    by_query=$(curl -sS --get --data-urlencode appkey=ACME --data-urlencode "token=$1" "$base/api/me")
    python3 -c 'import json,sys; print(*(json.loads(a)["errcode"] for a in sys.argv[1:]))' \
        "$by_header" "$by_query"
}
[[ "$(errcode_of "$token")" == "0 0" ]] || fail "the real token does not work: the attacks below would prove nothing"

# A token myjwt printed ("new JWT: ..."); its clipboard complaint and warnings dropped.
forge() {
    "$venv/bin/myjwt" "$token" "$@" 2>/dev/null | sed -n 's/^new JWT: //p' | tail -n 1
}
openssl genrsa -out "$work/rsa.pem" 2048 2>/dev/null
openssl rsa -in "$work/rsa.pem" -pubout -out "$work/rsa.pub" 2>/dev/null
header=${token%%.*}
rest=${token#*.}
payload=${rest%%.*}

declare -A forged=(
    [alg none]=$(forge --none-vulnerability)
    [key confusion, the RSA public key as HMAC key]=$(forge --hmac "$work/rsa.pub")
    [kid SQL injection]=$(forge --kid "x' UNION SELECT 'key'--")
    [kid path traversal, signed with an empty key]=$(forge -h kid=../../../../../../dev/null --sign "")
    [jku to another host]=$(forge -h jku=http://127.0.0.1:9/jwks.json --sign attacker)
    [x5u to another host]=$(forge -h x5u=http://127.0.0.1:9/cert.pem --sign attacker)
    [another user, signed with a guessed key]=$(forge -p sub=2 --sign secret)
    [another user, the original signature]=$(python3 -c '
import base64, json, sys
header, payload, signature = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
claims["sub"] = "2"
changed = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
print(header + "." + changed.rstrip(b"=").decode() + "." + signature)' "$token")
    [HS512 with a guessed key]=$(forge -h alg=HS512 --sign painless)
    [signature stripped]="$header.$payload."
    [no signature part]="$header.$payload"
)
for attack in "${!forged[@]}"; do
    jwt=${forged[$attack]}
    if [[ -z "$jwt" ]]; then
        fail "myjwt made no token for: $attack"
        continue
    fi
    codes=$(errcode_of "$jwt")
    case "$codes" in
        "40014 40014" | "30001 30001") echo "attack: refused ($codes): $attack" ;;
        *) fail "not refused ($codes): $attack" ;;
    esac
done

# The wordlist: common secrets, the app's own words, and the known weak control key.
words="$work/words.txt"
{
    printf '%s\n' secret password changeme jwt-secret painless painless-web demo demo-password \
        ACME your-256-bit-secret key 123456 qwerty letmein admin
    for n in $(seq 0 999); do printf 'secret%d\npainless%d\n' "$n" "$n"; done
    echo weak-control-key
} >"$words"
control=$(forge --sign weak-control-key)
cracked=$("$venv/bin/myjwt" "$control" --bruteforce "$words" 2>/dev/null | grep -c 'weak-control-key' || true)
[[ "$cracked" -ge 1 ]] || fail "the wordlist attack does not even find the weak control key"
verdict=$("$venv/bin/myjwt" "$token" --bruteforce "$words" 2>&1 || true)
if [[ "$verdict" == *"not cracked"* ]]; then
    echo "attack: the generated key is not in a wordlist of $(wc -l <"$words") secrets (the weak control key was found)"
else
    fail "the wordlist attack found the generated signing key"
fi

# wapiti: the pages by crawling, /api from its OpenAPI document, signed in. The session
# ends of logout and the lab's revoke would sign the scan out: left out.
curl -fsS "$base/api/openapi.json" -o "$work/openapi.json"
"$venv/bin/wapiti" -u "$base/" --swagger "$work/openapi.json" --scope domain \
    -m xss,permanentxss,sql,exec,redirect,crlf,http_headers,csrf,cookieflags,csp,file,methods \
    -H "Authorization: Bearer $token" -C "painless_refresh=$refresh" \
    -x "$base/api/auth/logout" -x "$base/logout" -x "$base/api/demo/revoke" \
    -x "$base/api/sessions/end-others" \
    --max-scan-time 120 --flush-session --no-bugreport -v 0 \
    -f json -o "$work/wapiti.json" >"$work/wapiti.log" 2>&1 ||
    { cat "$work/wapiti.log" >&2; fail "wapiti did not finish"; }
# Explained findings (docs/security.md): "Lack of anti CSRF token" on the login and
# logout forms, which the Fetch Metadata / Origin check protects instead (40301 before any
# handler runs, tested in tests/server/hardening.rs) with SameSite=Strict cookies; and no
# Secure flag on the refresh cookie over this plain-HTTP loopback scan, where a browser
# would drop a Secure cookie: over HTTPS it is __Host-painless_refresh with Secure.
python3 - "$work/wapiti.json" <<'EOF' || failed=1
import json, sys
report = json.load(open(sys.argv[1]))
explained = {
    ("Cross Site Request Forgery", "Lack of anti CSRF token"),
    ("Secure Flag cookie", "Secure flag is not set in the cookie : painless_refresh"),
}
unexplained = 0
for kind in ("vulnerabilities", "anomalies"):
    for name, findings in report[kind].items():
        for finding in findings:
            known = (name, finding["info"]) in explained
            print(f"attack: wapiti: {name}, "
                  f"level {finding['level']}, {finding['method']} {finding['path']}: "
                  f"{finding['info'][:120]}{' (explained)' if known else ''}")
            if finding["level"] > 0 and not known:
                unexplained += 1
print(f"attack: wapiti crawled {report['infos']['crawled_pages_nbr']} pages and operations; "
      f"{unexplained} unexplained findings above informational")
sys.exit(1 if unexplained else 0)
EOF
grep -E "internal error|panicked" "$work/server.log" && fail "the server logged an internal error (above)"
kill -0 "$server_pid" 2>/dev/null || fail "the server died"
exit "$failed"
