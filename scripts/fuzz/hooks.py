"""Schemathesis hooks for painless (loaded through SCHEMATHESIS_HOOKS by scripts/fuzz-api.sh).

An auth provider that logs in as the first demo user, so that the protected endpoints are
exercised past their token check: every case carries the bearer token and the refresh
cookie of a live session. Each case logs in afresh (a hash, some milliseconds), since cases such as
`POST /api/demo/revoke` or `POST /api/auth/logout` end it on purpose.
"""

import os

import requests
import schemathesis

BASE_URL = os.environ["FUZZ_URL"]
DEMO_LOGIN = {
    "customer_code": os.environ.get("FUZZ_CUSTOMER", "ACME"),
    "username": os.environ.get("FUZZ_USER", "demo"),
    "password": os.environ.get("FUZZ_PASSWORD", "demo-password"),
}
REFRESH_COOKIE = "painless_refresh"


@schemathesis.auth(refresh_interval=None)
class DemoSession:
    def get(self, case, context):
        response = requests.post(f"{BASE_URL}/api/auth/login", json=DEMO_LOGIN, timeout=30)
        body = response.json()
        if body["errcode"] != 0:
            raise RuntimeError(f"the demo login failed: {body}")
        return {
            "token": body["data"]["access_token"],
            "cookie": response.cookies[REFRESH_COOKIE],
        }

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data['token']}"
        case.cookies = case.cookies or {}
        case.cookies[REFRESH_COOKIE] = data["cookie"]
