"""The README's "Against DynamoDB instead of memory" command, as written,
against a fresh moto: the local API must start and complete a sign-up.

    .venv/bin/python scripts/readme-dynamodb.py target/debug/registrar

Reads the command block from README.md (its environment assignments), starts
a new moto on a free port in place of the README's 5000 and the binary that
`cargo run` builds in place of `cargo run`, then signs up (e-mail and phone,
codes read from the outbox). Prints `readme-dynamodb: N passed, M failed`.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, what):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not start")


def readme_command():
    """The environment the README's block sets for `cargo run`."""
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text.split("### Against DynamoDB instead of memory", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    command = block[block.index("AWS_ACCESS_KEY_ID") :]
    assert "cargo run" in command, f"the README's block no longer runs `cargo run`: {block}"
    return dict(re.findall(r"([A-Z_]+)=(\S+)", command.split("cargo run")[0]))


def call(method, url, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("X-API-Key", key)
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def code_to(outbox, to):
    for name in sorted(os.listdir(outbox), reverse=True):
        message = json.load(open(os.path.join(outbox, name)))
        if message.get("to") == to:
            return re.search(r"\b(\d{6})\b", message["text"]).group(1)
    sys.exit(f"no message to {to} in the outbox")


def main():
    binary = sys.argv[1]
    env = readme_command()
    moto_port, api_port = free_port(), free_port()
    env["REGISTRAR_DYNAMODB_ENDPOINT"] = env["REGISTRAR_DYNAMODB_ENDPOINT"].replace("5000", str(moto_port))
    outbox = tempfile.mkdtemp(prefix="registrar-readme-")
    # The README's own key: its curl steps use it.
    key = env.get("REGISTRAR_API_KEY")
    if not key:
        sys.exit("the README's DynamoDB command sets no REGISTRAR_API_KEY (its curl steps would answer 401)")
    moto = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "moto-server.py"), str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = None
    passed, failed = 0, 0
    try:
        wait_for(moto_port, "moto")
        api_env = {**os.environ, **env, "REGISTRAR_ADDR": f"127.0.0.1:{api_port}", "REGISTRAR_OUTBOX_DIR": outbox}
        api = subprocess.Popen([binary], env=api_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(300):
            if api.poll() is not None:
                print(f"FAIL the local API stopped: {api.stdout.read()[-2000:]}")
                print("readme-dynamodb: 0 passed, 1 failed")
                sys.exit(1)
            try:
                socket.create_connection(("127.0.0.1", api_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{api_port}"
        email, phone = "dora@example.com", "+41791234567"
        status, started = call("POST", f"{base}/v1/registrations", key, {
            "email": email, "password": "Str0ng!Pass", "first_name": "Dora", "last_name": "Dynamo",
            "terms_accepted": True, "privacy_policy_accepted": True,
        })
        rid = started.get("registration_id")
        steps = [(status, 202, "start")]
        status, _ = call("POST", f"{base}/v1/registrations/{rid}/email/verify", key, {"code": code_to(outbox, email)})
        steps.append((status, 200, "verify the e-mail"))
        status, _ = call("POST", f"{base}/v1/registrations/{rid}/phone", key, {"phone": phone})
        steps.append((status, 202, "add the phone"))
        status, done = call("POST", f"{base}/v1/registrations/{rid}/phone/verify", key, {"code": code_to(outbox, phone)})
        steps.append((status, 201, "verify the phone"))
        for got, wanted, step in steps:
            if got == wanted:
                passed += 1
                print(f"ok   {step} ({got})")
            else:
                failed += 1
                print(f"FAIL {step}: {got}, expected {wanted}")
        if failed == 0 and not done.get("access_token"):
            failed += 1
            print(f"FAIL no tokens at completion: {done}")
    finally:
        if api:
            api.terminate()
            api.wait(timeout=10)
        moto.terminate()
        moto.wait(timeout=10)
    print(f"readme-dynamodb: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
