"""The README's local-use shell blocks, as written, against a fresh local API:
the curl sign-up ("Local use: a sign-up with curl") and the login, 2FA,
refresh, sessions and logout ("Login, 2FA, refresh and logout with curl").

    python3 scripts/readme-local.py target/debug/registrar

Starts the binary that `cargo run` builds, with no configuration but its
address (the README's `cargo run`: the in-memory store, the `sk_local` key,
the outbox under `.local/outbox/` of the folder it runs in), in a temporary
folder, and runs both blocks there with bash in one shell (the second
continues the first). The one change to the text: the README's port 3000
becomes a free one. Then it checks that each step answered what the README
says it answers, in order. Prints `readme-local: N passed, M failed`.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def blocks():
    """The README's `sh` blocks that hold the curl sign-up and the login."""
    text = open(os.path.join(ROOT, "README.md")).read()
    found = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    sign_up = [b for b in found if "API=http://127.0.0.1:3000" in b]
    login = [b for b in found if "$API/v1/auth/login" in b and "D=(" in b]
    assert len(sign_up) == 1 and len(login) == 1, "the README's curl blocks are not where they were"
    return sign_up[0], login[0]


# What the README's comments say each step answers, in the order the blocks
# print them (a pattern per step).
EXPECTED = [
    ("1. start: 202 with a registration_id", r'"registration_id":"reg_'),
    ("2. verify the e-mail: next add_phone", r'"next":"add_phone"'),
    ("3. add a phone: next verify_phone", r'"next":"verify_phone"'),
    ("status: what is done and what is next", r'"email_verified":true'),
    ("resend this soon: 429 with Retry-After", r'"code":"rate_limited"'),
    ("4. verify the phone: 201 and the refresh cookie", r"HTTP/1\.1 201.*?set-cookie: refresh_token="),
    ("the JWKS", r'"keys":\[\{'),
    ("login: the SMS challenge", r'"mfa_required":true'),
    ("the second factor: tokens", r'"access_token":"ey'),
    ("who am I", r'"email":"anna@example\.com"'),
    ("refresh from the cookie: a new access token", r'"access_token":"ey'),
    ("the sessions, this one current", r'"current":true'),
    ("logout", r'"message":"'),
]


def main():
    binary = os.path.abspath(sys.argv[1])
    sign_up, login = blocks()
    port = free_port()
    script = (sign_up + login).replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    folder = tempfile.mkdtemp(prefix="registrar-readme-local-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRAR_")}
    env["REGISTRAR_ADDR"] = f"127.0.0.1:{port}"
    api = subprocess.Popen([binary], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    passed, failed = 0, 0
    try:
        for _ in range(300):
            if api.poll() is not None:
                sys.exit(f"the local API stopped: {api.stdout.read()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        # Step 1 shows its answer on stderr (`tee /dev/stderr`): one stream.
        run = subprocess.run(
            ["bash", "-c", script], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=120,
        )
        output = run.stdout
        at = 0
        for step, pattern in EXPECTED:
            match = re.compile(pattern, flags=re.S | re.I).search(output, at)
            if match:
                passed += 1
                at = match.end()
                print(f"ok   {step}")
            else:
                failed += 1
                print(f"FAIL {step}: /{pattern}/ not found after offset {at}")
        if failed:
            print("---- what the blocks printed ----\n" + output[-4000:])
        # The cookie jar and the answers go to a temporary folder of their own.
        left = [n for n in os.listdir(folder) if n in ("jar", "login.json", "tokens.json")]
        if left:
            failed += 1
            print(f"FAIL the blocks left files where they ran: {left}")
        else:
            passed += 1
            print("ok   nothing left where the blocks ran")
    finally:
        api.terminate()
        api.wait(timeout=10)
    print(f"readme-local: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
