"""Schemathesis auth for the routes of a signed-in user (/v1/me, logout).

Each token comes from a real login of the user that scripts/schemathesis.sh
signed up. Logout and logout-all end that session, so schemathesis asks for a
new token whenever a call answers 401 (its `retry_on` default) and replays the
call. Every login comes from its own loopback address, as from its own device,
so the per-IP login limit (30 per 5 minutes) is not what the run measures.
A session is bound to the device that logged in, so a logout that sends an
X-Device-ID sends that device's (a foreign device is covered by the admin-token run,
where every logout answers 401).
"""
import http.client
import itertools
import json
import os

import schemathesis

PORT = int(os.environ["REGISTRAR_ST_PORT"])
API_KEY = os.environ["REGISTRAR_ST_API_KEY"]
USERNAME = os.environ["REGISTRAR_ST_USERNAME"]
PASSWORD = os.environ["REGISTRAR_ST_PASSWORD"]
SOURCES = itertools.count(1)


def login() -> tuple[str, str]:
    n = next(SOURCES)
    source = f"127.1.{n // 250 % 250}.{n % 250 + 1}"
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60, source_address=(source, 0))
    body = json.dumps({"username": USERNAME, "password": PASSWORD})
    headers = {"X-API-Key": API_KEY, "X-Device-ID": f"schemathesis-{n}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/auth/login", body=body, headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    if response.status != 200 or "access_token" not in answer:
        raise RuntimeError(f"login for schemathesis failed: {response.status} {answer.get('code')}")
    return answer["access_token"], headers["X-Device-ID"]


@schemathesis.auth()
class UserToken:
    def get(self, case, context):
        return login()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        token, device = data
        case.headers["Authorization"] = f"Bearer {token}"
        if case.operation.path == "/v1/auth/logout" and "X-Device-ID" in case.headers:
            case.headers["X-Device-ID"] = device
