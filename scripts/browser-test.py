"""A real browser (Chromium, driven by Playwright) against the local API.

A web developer runs `cargo run` with REGISTRAR_CORS_ORIGINS naming their
app's origin. A page on that origin signs up (start, verify the e-mail code)
and then refreshes with the HttpOnly refresh cookie alone; a page on another
origin is stopped by the browser (no CORS headers for it), and its request
never reaches the API. Passkeys: the demo page the local API serves at
/demo/, with the DevTools protocol's virtual authenticator (CTAP2, internal,
resident keys, user verification), signs in with the password, adds a
passkey, signs in with it alone and as the second factor after the
password; the same page on another origin (127.0.0.1, not the relying party
localhost) gets nothing from the authenticator. Then a client library we did
not write (PyJWT) finds the keys through OpenID Connect discovery and
verifies the token the browser got.

    .venv-browser/bin/python scripts/browser-test.py target/debug/registrar

Prints one closing line, `browser: N passed, M failed`, and exits non-zero
when a check fails.
"""

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import jwt
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
API_KEY = "sk_browser_test_key_0123456789"
CODE = "246810"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_page(port):
    """An app's origin: any page will do, the test runs its script in it."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>an app</title><p>app</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


SIGN_UP_AND_REFRESH = """
async ([api, key, code, email]) => {
  const json = {"Content-Type": "application/json", "X-API-Key": key, "X-Device-ID": "browser-1"};
  const start = await fetch(api + "/v1/registrations", {method: "POST", headers: json, body: JSON.stringify({
    email, password: "Str0ng!Pass", first_name: "Bea", last_name: "Browser",
    terms_accepted: true, privacy_policy_accepted: true})});
  const started = await start.json();
  const done = await fetch(api + `/v1/registrations/${started.registration_id}/email/verify`, {
    method: "POST", headers: json, credentials: "include", body: JSON.stringify({code})});
  const tokens = await done.json();
  // No body, no token in script: the HttpOnly cookie alone.
  const refresh = await fetch(api + "/v1/auth/refresh", {
    method: "POST", headers: {"X-API-Key": key, "X-Device-ID": "browser-1"}, credentials: "include"});
  return {
    start: start.status, requestId: start.headers.get("X-Request-ID"),
    done: done.status, tokens,
    refresh: refresh.status, refreshed: await refresh.json(),
    scriptSeesCookie: document.cookie,
  };
}
"""

BLOCKED = """
async ([api, key, email]) => {
  try {
    const answer = await fetch(api + "/v1/registrations", {method: "POST",
      headers: {"Content-Type": "application/json", "X-API-Key": key},
      body: JSON.stringify({email, password: "Str0ng!Pass", first_name: "Eve", last_name: "Other",
                            terms_accepted: true, privacy_policy_accepted: true})});
    return {blocked: false, status: answer.status};
  } catch (error) {
    return {blocked: true, error: String(error)};
  }
}
"""


def virtual_authenticator(page):
    """A platform authenticator in the page's browser: CTAP2, resident keys,
    user verification, presence answered at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, added["authenticatorId"]


def status_after(page, button, expected_start):
    # The status of the step before (an error, say) must not answer for
    # this one: clear it, then wait for this step's own.
    page.evaluate("document.getElementById('status').textContent = ''")
    page.click(button)
    page.wait_for_function(
        "prefix => { const s = document.getElementById('status').textContent;"
        " return s.startsWith(prefix) || s.startsWith('error'); }",
        arg=expected_start,
        timeout=20_000,
    )
    return page.text_content("#status")


def passkeys(browser, api_port, check):
    demo = f"http://localhost:{api_port}/demo/?key={API_KEY}"
    page = browser.new_page()
    cdp, authenticator = virtual_authenticator(page)
    page.goto(demo)
    page.fill("#email", "bea@example.com")
    page.fill("#password", "Str0ng!Pass")
    s = status_after(page, "#signin", "signed in")
    check("demo: a password sign-in", s == "signed in (password)", s)
    s = status_after(page, "#add-passkey", "passkey added")
    check("demo: a passkey is added", s.startswith("passkey added: pk_"), s + page.text_content("#log"))
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    check(
        "demo: the authenticator holds one discoverable credential for localhost",
        len(stored) == 1 and stored[0]["isResidentCredential"] and stored[0]["rpId"] == "localhost",
        stored,
    )
    registered_count = stored[0]["signCount"] if stored else None
    page.click("#signout")
    s = status_after(page, "#passkey-signin", "signed in")
    check("demo: signed in with the passkey alone", s == "signed in (passkey)", s + page.text_content("#log"))
    s = status_after(page, "#signin", "second factor")
    check("demo: the password now asks for a second factor, passkey first", s.startswith("second factor: passkey"), s)
    s = status_after(page, "#passkey-signin", "signed in")
    check("demo: the passkey answers the second factor", s == "signed in (password and passkey)", s)
    counts = [c["signCount"] for c in cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]]
    check("demo: the credential counted both assertions", counts == [registered_count + 2], (registered_count, counts))

    # The same page on 127.0.0.1: not the relying party's origin.
    other = browser.new_page()
    virtual_authenticator(other)
    other.goto(f"http://127.0.0.1:{api_port}/demo/?key={API_KEY}")
    s = status_after(other, "#passkey-signin", "signed in")
    check("demo: another origin gets no assertion", s.startswith("error"), s)
    other.close()
    page.close()


def post(url, body, headers=None):
    """A JSON POST with the test's API key; the answer's status and JSON."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    for name, value in {"Content-Type": "application/json", "X-API-Key": API_KEY, **(headers or {})}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def sms_user(browser, api_port, check):
    """The README's user: e-mail and a verified phone, so a password
    sign-in asks for the SMS code. The demo page takes the code, then adds
    a passkey; a passkey asked for before it has one gets a clear answer."""
    api = f"http://localhost:{api_port}"
    email = "sam@example.com"
    status, started = post(f"{api}/v1/registrations", {
        "email": email, "password": "Str0ng!Pass", "first_name": "Sam", "last_name": "Sms",
        "terms_accepted": True, "privacy_policy_accepted": True})
    status, done = post(f"{api}/v1/registrations/{started['registration_id']}/email/verify", {"code": CODE},
                        {"X-Device-ID": "setup"})
    bearer = {"Authorization": "Bearer " + done["access_token"]}
    post(f"{api}/v1/me/credentials", {"type": "phone", "value": "+41791230000"}, bearer)
    status, _ = post(f"{api}/v1/me/credentials/verify", {"type": "phone", "code": CODE}, bearer)
    check("demo (SMS user): the phone is verified", status == 200, status)

    page = browser.new_page()
    cdp, authenticator = virtual_authenticator(page)
    page.goto(f"{api}/demo/?key={API_KEY}")
    page.fill("#email", email)
    page.fill("#password", "Str0ng!Pass")
    s = status_after(page, "#signin", "second factor")
    check("demo (SMS user): the password asks for the SMS code", s.startswith("second factor: sms") and "went by sms" in s, s)
    check("demo (SMS user): the code field is one-time-code",
          page.get_attribute("#code", "autocomplete") == "one-time-code" and page.is_visible("#code"), page.content()[:200])
    s = status_after(page, "#passkey-signin", "signed in")
    check("demo (SMS user): a passkey without one says so", s.startswith("error") and "no passkey" in s.lower(), s)
    page.fill("#code", CODE)
    s = status_after(page, "#answer", "signed in")
    check("demo (SMS user): signed in with the SMS code", s == "signed in (password and sms)", s + page.text_content("#log"))
    s = status_after(page, "#add-passkey", "passkey added")
    check("demo (SMS user): a passkey is added", s.startswith("passkey added: pk_"), s + page.text_content("#log"))
    page.click("#signout")
    s = status_after(page, "#signin", "second factor")
    check("demo (SMS user): now the passkey is offered first", s.startswith("second factor: passkey"), s)
    page.close()


def main():
    binary = sys.argv[1]
    app_port, other_port = free_port(), free_port()
    app_origin = f"http://127.0.0.1:{app_port}"
    outbox = tempfile.mkdtemp(prefix="registrar-browser-")
    log_dir = os.environ.get("REGISTRAR_TEST_LOG_DIR")
    log = open(os.path.join(log_dir, "browser-api.jsonl"), "w") if log_dir else subprocess.DEVNULL
    env = dict(
        os.environ,
        # Port 0: the API takes a free port and says which; the demo's
        # passkey origin must be that one, not the configured 0.
        REGISTRAR_ADDR="127.0.0.1:0",
        REGISTRAR_API_KEY=API_KEY,
        REGISTRAR_CORS_ORIGINS=app_origin,
        REGISTRAR_SANDBOX_CODE=CODE,
        REGISTRAR_PHONE_REQUIRED="false",
        REGISTRAR_OUTBOX_DIR=outbox,
        REGISTRAR_LOG_FORMAT="json",
    )
    server = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    banner = server.stdout.readline()
    bound = re.search(r"listening on http://127\.0\.0\.1:(\d+)", banner)
    if not bound:
        sys.exit(f"the local API did not say where it listens: {banner!r}")
    api_port = int(bound.group(1))
    api = f"http://127.0.0.1:{api_port}"
    # The rest of the banner is read and dropped, so the pipe never fills.
    threading.Thread(target=server.stdout.read, daemon=True).start()
    pages = [serve_page(app_port), serve_page(other_port)]
    passed, failed = 0, 0

    def check(name, ok, detail):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", api_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(app_origin + "/")
            r = page.evaluate(SIGN_UP_AND_REFRESH, [api, API_KEY, CODE, "bea@example.com"])
            check("sign-up from the allowed origin", r["start"] == 202 and r["done"] == 201, json.dumps(r))
            check("the request id header is readable", bool(r["requestId"]), json.dumps(r))
            refreshed = r["refreshed"]
            check(
                "refresh with the HttpOnly cookie alone",
                r["refresh"] == 200
                and refreshed.get("access_token")
                and refreshed.get("refresh_token") not in (None, r["tokens"].get("refresh_token")),
                json.dumps(r),
            )
            check("the script cannot read the refresh cookie", "refresh_token" not in r["scriptSeesCookie"], r)

            other = browser.new_page()
            other.goto(f"http://127.0.0.1:{other_port}/")
            b = other.evaluate(BLOCKED, [api, API_KEY, "eve@example.com"])
            check("another origin is blocked by the browser", b["blocked"], json.dumps(b))
            sent = [n for n in os.listdir(outbox) if "eve@example.com" in open(os.path.join(outbox, n)).read()]
            check("the blocked request never reached the API", not sent, sent)
            passkeys(browser, api_port, check)
            sms_user(browser, api_port, check)
            browser.close()

        # OIDC discovery, as a stranger's client uses it.
        with urllib.request.urlopen(f"{api}/.well-known/openid-configuration", timeout=10) as answer:
            discovery = json.load(answer)
        token = r["tokens"].get("access_token", "")
        try:
            key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=discovery["id_token_signing_alg_values_supported"],
                audience="registrar",
                issuer=discovery["issuer"],
            )
            check("PyJWT verifies the token through discovery", claims["iss"] == api, claims)
        except jwt.PyJWTError as error:
            check("PyJWT verifies the token through discovery", False, repr(error))
    finally:
        server.terminate()
        server.wait(timeout=10)
        for page_server in pages:
            page_server.shutdown()
    print(f"browser: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
