"""Schemathesis auth for the routes of a signed-in user (/v1/me, its
sessions, logout).

Each token comes from a real login of a user signed up through the API.
Logout, logout-all and ending the own session (DELETE /v1/me/sessions/{id})
end that session, so schemathesis asks for a new token whenever a call
answers 401 (its `retry_on` default) and replays the call.
Every request here comes from its own loopback address, as from its own
device, so the per-IP limits are not what the run measures.

Wrong passwords sent to the step-up routes (close-me, change-password, …)
count per session, and the fifth ends it: the next call answers 401 and the
hook signs in again. When a login is refused all the same (the user was
closed, or locked), the hook signs up a fresh user (with the sandbox code)
and carries on as that one.
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
PASSWORD = os.environ["REGISTRAR_ST_PASSWORD"]
CODE = os.environ["REGISTRAR_ST_CODE"]
SOURCES = itertools.count(1)
USERS = itertools.count(1)
user = {"username": os.environ["REGISTRAR_ST_USERNAME"]}


def call(path: str, body: dict, device: str | None = None) -> tuple[int, dict]:
    n = next(SOURCES)
    source = f"127.1.{n // 250 % 250}.{n % 250 + 1}"
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60, source_address=(source, 0))
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
    if device:
        headers["X-Device-ID"] = device
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


def sign_up() -> str:
    email = f"schemathesis-user-{next(USERS)}@example.com"
    status, started = call("/v1/registrations", {
        "email": email, "password": PASSWORD, "first_name": "Schema", "last_name": "Thesis",
        "terms_accepted": True, "privacy_policy_accepted": True,
    })
    if status != 202:
        raise RuntimeError(f"sign-up for schemathesis failed: {status} {started.get('code')}")
    status, done = call(f"/v1/registrations/{started['registration_id']}/email/verify", {"code": CODE})
    if status != 201:
        raise RuntimeError(f"sign-up for schemathesis failed: {status} {done.get('code')}")
    return email


def login() -> tuple[str, str]:
    for attempt in range(2):
        device = f"schemathesis-{next(SOURCES)}"
        status, answer = call("/v1/auth/login", {"username": user["username"], "password": PASSWORD}, device)
        if status == 200 and "access_token" in answer:
            return answer["access_token"], device
        if attempt == 0 and answer.get("code") == "invalid_credentials":
            user["username"] = sign_up()
            continue
        raise RuntimeError(f"login for schemathesis failed: {status} {answer.get('code')}")
    raise RuntimeError("login for schemathesis failed")


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
