"""A confidential server-side app signs a user in through Registrar's hosted
pages with Authlib (a second OpenID Connect client we did not write, beside
openid-client in scripts/oidc-test.mjs), authenticating itself with
client_secret_basic, against the local API as `cargo run` serves it with its
clients registered by REGISTRAR_OAUTH_CLIENTS.

The browser here is a plain HTTP session (the pages need no JavaScript): it
fills the sign-in form the page serves and keeps its cookies. Authlib builds
the authorization URL (PKCE S256, state, nonce), checks the state that comes
back, exchanges the code with the client's secret in HTTP Basic, validates
the ID token against the JWKS (signature, iss, aud, exp, nonce, at_hash),
calls userinfo, refreshes and revokes. Then the refusals an app relies on:
a wrong secret, no verifier, a wrong verifier, a replayed code, another
client's code.

    .venv-browser/bin/python scripts/authlib-test.py target/debug/registrar

Prints one closing line, `authlib: N passed, M failed`, and exits non-zero
when a check fails. scripts/test.sh installs Authlib into .venv-browser.
"""

import html.parser
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.parse
import warnings

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

warnings.filterwarnings("ignore", category=DeprecationWarning)
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

API_KEY = "sk_authlib_" + secrets.token_hex(8)
CODE = "135790"
EMAIL = "ada@example.com"
PASSWORD = os.environ.get("AUTHLIB_TEST_SECRET", "Str0ng!Pass")
CLIENT_ID = "back-office-app"
CLIENT_SECRET = secrets.token_urlsafe(32)
REDIRECT_URI = "https://app.example.com/callback"
OTHER_ID = "other-app"
SCOPE = "openid email profile offline_access"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


class Forms(html.parser.HTMLParser):
    """The page's forms: each one's action and its inputs' names and values."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def form_with(page, field):
    parser = Forms()
    parser.feed(page)
    return next((form for form in parser.forms if field in form["fields"]), None)


def start_api(binary, outbox):
    env = dict(os.environ)
    env.update(
        {
            "REGISTRAR_ADDR": "127.0.0.1:0",
            "REGISTRAR_API_KEY": API_KEY,
            "REGISTRAR_SANDBOX_CODE": CODE,
            "REGISTRAR_PHONE_REQUIRED": "false",
            "REGISTRAR_OUTBOX_DIR": outbox,
            "REGISTRAR_LOG_FORMAT": "json",
            # A plain HTTP client keeps no Secure cookie over http (a
            # browser makes an exception for localhost).
            "REGISTRAR_SECURE_COOKIES": "false",
            "REGISTRAR_OAUTH_CLIENTS": json.dumps(
                [
                    {
                        "client_id": CLIENT_ID,
                        "redirect_uris": [REDIRECT_URI],
                        "public": False,
                        "client_secret": CLIENT_SECRET,
                    },
                    {"client_id": OTHER_ID, "redirect_uris": [REDIRECT_URI], "public": True},
                ]
            ),
        }
    )
    log_dir = os.environ.get("REGISTRAR_TEST_LOG_DIR")
    stderr = open(os.path.join(log_dir, "authlib-api.jsonl"), "w") if log_dir else subprocess.DEVNULL
    server = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = server.stdout.readline()
    if "listening on http://" not in line:
        server.kill()
        sys.exit(f"the local API did not say where it listens: {line!r}")
    return server, line.split("listening on ")[1].split()[0].rstrip("/")


def sign_in(browser, url):
    """The user at the hosted pages: the sign-in form, filled and posted;
    returns where the browser is sent back to (the app's callback)."""
    page = browser.get(url, allow_redirects=False)
    form = form_with(page.text, "password")
    if form is None:
        raise AssertionError(f"no sign-in form ({page.status_code}): {page.text[:300]}")
    fields = dict(form["fields"], username=EMAIL, password=PASSWORD)
    action = urllib.parse.urljoin(url, form["action"] or url)
    answer = browser.post(action, data=fields, allow_redirects=False)
    if answer.status_code != 303:
        raise AssertionError(f"the sign-in answered {answer.status_code}: {answer.text[:300]}")
    return answer.headers["location"]


def main():
    binary = sys.argv[1]
    outbox = tempfile.mkdtemp(prefix="registrar-authlib-")
    server, api = start_api(binary, outbox)
    try:
        run(api)
    except Exception as error:  # noqa: BLE001 (a broken step fails the run, loudly)
        check("the flow ran to its end", False, repr(error))
    finally:
        server.kill()
        server.wait()
    print(f"authlib: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def run(api):
    headers = {"x-api-key": API_KEY}
    started = requests.post(
        f"{api}/v1/registrations",
        headers=headers,
        json={
            "email": EMAIL,
            "password": PASSWORD,
            "first_name": "Ada",
            "last_name": "Authlib",
            "terms_accepted": True,
            "privacy_policy_accepted": True,
        },
    ).json()
    verified = requests.post(
        f"{api}/v1/registrations/{started['registration_id']}/email/verify",
        headers=dict(headers, **{"x-device-id": "setup"}),
        json={"code": CODE},
    )
    check("the user signs up through the API", verified.status_code == 201, verified.status_code)

    metadata = requests.get(f"{api}/.well-known/openid-configuration").json()
    check(
        "discovery offers client_secret_basic",
        "client_secret_basic" in metadata.get("token_endpoint_auth_methods_supported", []),
        metadata.get("token_endpoint_auth_methods_supported"),
    )
    jwks = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"]).json())

    def session(**extra):
        return OAuth2Session(
            CLIENT_ID,
            CLIENT_SECRET,
            scope=SCOPE,
            redirect_uri=REDIRECT_URI,
            token_endpoint_auth_method="client_secret_basic",
            code_challenge_method="S256",
            **extra,
        )

    def authorize(app, browser):
        verifier = generate_token(64)
        nonce = generate_token(24)
        url, state = app.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        return sign_in(browser, url), verifier, nonce, state

    # The whole sign-in.
    app = session()
    browser = requests.Session()
    callback, verifier, nonce, state = authorize(app, browser)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    check("the browser comes back to the registered URI", callback.startswith(REDIRECT_URI + "?"), callback)
    check("the state comes back untouched", query.get("state") == state, query)
    check("the answer names its issuer (RFC 9207)", query.get("iss") == metadata["issuer"], query)
    token = app.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state
    )
    check(
        "the code is exchanged with the secret in HTTP Basic",
        bool(token.get("access_token")) and bool(token.get("id_token")),
        list(token),
    )
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    try:
        claims.validate()
        check("Authlib validates the ID token (signature, iss, aud, exp, nonce, at_hash)", True)
    except Exception as error:  # noqa: BLE001
        check("Authlib validates the ID token (signature, iss, aud, exp, nonce, at_hash)", False, repr(error))
    check(
        "the ID token names the user and how they signed in",
        claims.get("email") == EMAIL and "pwd" in claims.get("amr", []) and bool(claims.get("auth_time")),
        dict(claims),
    )
    userinfo = app.get(metadata["userinfo_endpoint"]).json()
    check("userinfo gives the granted claims", userinfo.get("email") == EMAIL, userinfo)
    check("userinfo's sub is the ID token's", userinfo.get("sub") == claims["sub"], userinfo)

    first_refresh = token["refresh_token"]
    refreshed = app.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    check(
        "the refresh grant, authenticated by the secret, rotates the refresh token",
        refreshed.get("refresh_token") not in (None, first_refresh),
        list(refreshed),
    )
    revoked = app.revoke_token(
        metadata["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    )
    check("revocation answers 200", revoked.status_code == 200, revoked.status_code)
    after = app.get(metadata["userinfo_endpoint"])
    check("after revocation the session's access token is refused", after.status_code == 401, after.status_code)
    again = requests.post(
        metadata["token_endpoint"],
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]},
    )
    check("after revocation the refresh token is refused", again.json().get("error") == "invalid_grant", again.text)

    # The refusals, each with a fresh code from the same browser (the hosted
    # session signs it in without the password again).
    def fresh_code(app):
        verifier = generate_token(64)
        url, state = app.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
        answer = browser.get(url, allow_redirects=False)
        location = answer.headers.get("location") or sign_in(browser, url)
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)).get("code")
        return code, verifier

    def redeem(code, verifier=None, auth=(CLIENT_ID, CLIENT_SECRET)):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        if verifier is not None:
            data["code_verifier"] = verifier
        return requests.post(metadata["token_endpoint"], auth=auth, data=data)

    code, verifier = fresh_code(session())
    wrong_secret = redeem(code, verifier, auth=(CLIENT_ID, CLIENT_SECRET[:-2] + "xx"))
    check(
        "a wrong client secret is invalid_client (401)",
        wrong_secret.status_code == 401 and wrong_secret.json().get("error") == "invalid_client",
        wrong_secret.text,
    )
    no_verifier = redeem(code)
    check(
        "a code without its verifier is refused",
        no_verifier.status_code == 400 and no_verifier.json().get("error") in ("invalid_request", "invalid_grant"),
        no_verifier.text,
    )
    code, verifier = fresh_code(session())
    wrong_verifier = redeem(code, generate_token(64))
    check("a wrong verifier is invalid_grant", wrong_verifier.json().get("error") == "invalid_grant", wrong_verifier.text)
    code, verifier = fresh_code(session())
    other = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": OTHER_ID,
        },
    )
    check("another client's code is invalid_grant", other.json().get("error") == "invalid_grant", other.text)
    code, verifier = fresh_code(session())
    first = redeem(code, verifier)
    replay = redeem(code, verifier)
    check("the code is redeemed once", first.status_code == 200, first.text)
    check("a replayed code is invalid_grant", replay.json().get("error") == "invalid_grant", replay.text)
    replayed_access = requests.get(
        metadata["userinfo_endpoint"], headers={"authorization": f"Bearer {first.json()['access_token']}"}
    )
    check(
        "a replayed code revokes what its first redemption issued",
        replayed_access.status_code == 401,
        replayed_access.status_code,
    )


if __name__ == "__main__":
    main()
