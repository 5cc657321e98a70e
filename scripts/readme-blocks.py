"""The documentation's shell blocks, run as written, each checked against
what the text says it answers:

- the README's "Local use: a sign-up with curl" and "Login, 2FA, refresh and
  logout with curl", against a fresh `cargo run` (in-memory store,
  `sk_local`);
- the README's "Against DynamoDB instead of memory": the block itself (moto
  in the background, then the API on it), then the curl sign-up against
  that API;
- "Operator CLI" in docs/operations.md: every line, on a fresh moto, the
  commented moto set-up included.

    python3 scripts/readme-blocks.py target/debug/registrar

The first two run in temporary folders of their own (`.venv` and `scripts`
linked there, so the README's relative paths hold; the outbox is that
folder's `.local/outbox/`); the CLI block runs at the repository's root.
The changes to the text are only these: the blocks' ports (3000, 5000)
become free ones; `cargo run` becomes the binary
it builds (given, built already); the CLI's placeholders (`<key-id>`,
`<user-id>`, …) become what the commands before them printed. Prints
`readme: N passed, M failed`.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = "README.md"
OPERATIONS = os.path.join("docs", "operations.md")
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process, what):
    for _ in range(600):
        if process.poll() is not None:
            sys.exit(f"{what} stopped: {process.stdout.read()[-2000:] if process.stdout else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not start on port {port}")


def section(path, title):
    """The text of the section `title` of the Markdown file `path` (relative
    to the repository's root), up to the next heading."""
    text = open(os.path.join(ROOT, path)).read()
    lines = text[text.index(title + "\n") + len(title) + 1 :].split("\n")
    fenced = False
    for n, line in enumerate(lines):
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,3} ", line):
            return "\n".join(lines[:n])
    return "\n".join(lines)


def sh_blocks(text):
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def clean_env():
    """The caller's environment without anything that would change what the
    blocks' commands do."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRAR_", "AWS_"))}


def scratch_folder(name):
    folder = tempfile.mkdtemp(prefix=f"registrar-readme-{name}-")
    for link in (".venv", "scripts"):
        os.symlink(os.path.join(ROOT, link), os.path.join(folder, link))
    return folder


def in_order(output, expected, label):
    """Each (step, pattern) found in `output` after the one before."""
    at = 0
    for step, pattern in expected:
        match = re.compile(pattern, flags=re.S | re.I).search(output, at)
        check(f"{label}: {step}", match is not None, f"/{pattern}/ not found after offset {at}")
        if match:
            at = match.end()
        else:
            print("---- what the block printed ----\n" + output[-4000:])
            return


def stop(process):
    """Stops a process started with its own session, and everything it started."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# What the curl blocks' comments say each step answers, in order.
SIGN_UP = [
    ("1. start: 202 with a registration_id", r'"registration_id":"reg_'),
    ("2. verify the e-mail: next add_phone", r'"next":"add_phone"'),
    ("3. add a phone: next verify_phone", r'"next":"verify_phone"'),
    ("status: what is done and what is next", r'"email_verified":true'),
    ("resend this soon: 429 with Retry-After", r'"code":"rate_limited"'),
    ("4. verify the phone: 201 and the refresh cookie", r"HTTP/1\.1 201.*?set-cookie: refresh_token="),
    ("the JWKS", r'"keys":\[\{'),
]
LOGIN = [
    ("login: the SMS challenge", r'"mfa_required":true'),
    ("the second factor: tokens", r'"access_token":"ey'),
    ("who am I", r'"email":"anna@example\.com"'),
    ("refresh from the cookie: a new access token", r'"access_token":"ey'),
    ("the sessions, this one current", r'"current":true'),
    ("logout", r'"message":"'),
]


def curl_blocks():
    sign_up = [b for b in sh_blocks(section(README, "## Local use: a sign-up with curl")) if "API=http://127.0.0.1:3000" in b]
    login = [b for b in sh_blocks(section(README, "### Login, 2FA, refresh and logout with curl")) if "$API/v1/auth/login" in b]
    assert len(sign_up) == 1 and len(login) == 1, "the README's curl blocks are not where they were"
    return sign_up[0], login[0]


def run_curl(script, port, folder, env):
    run = subprocess.run(
        ["bash", "-c", script.replace("127.0.0.1:3000", f"127.0.0.1:{port}")],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=180,
    )
    # Step 1 shows its answer on stderr (`tee /dev/stderr`): one stream.
    return run.stdout


def local(binary):
    """`cargo run`, then the sign-up and login blocks in one shell."""
    sign_up, login = curl_blocks()
    port = free_port()
    folder = scratch_folder("local")
    env = clean_env()
    api = subprocess.Popen(
        [binary], cwd=folder, env={**env, "REGISTRAR_ADDR": f"127.0.0.1:{port}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        wait_for(port, api, "the local API")
        output = run_curl(sign_up + login, port, folder, env)
        in_order(output, SIGN_UP + LOGIN, "local")
        left = [n for n in os.listdir(folder) if n in ("jar", "login.json", "tokens.json")]
        check("local: the blocks leave no files where they ran", not left, left)
    finally:
        stop(api)


def dynamodb(binary):
    """The DynamoDB block as a shell script (moto in the background, then the
    API in the foreground), then the curl sign-up against it."""
    blocks = sh_blocks(section(README, "### Against DynamoDB instead of memory"))
    assert len(blocks) == 1 and "cargo run" in blocks[0], "the README's DynamoDB block is not where it was"
    block = blocks[0]
    check("dynamodb: the block sets the key the curl steps use", "REGISTRAR_API_KEY=sk_local" in block, block)
    moto_port, api_port = free_port(), free_port()
    script = block.replace("5000", str(moto_port)).replace("cargo run", shlex.quote(binary))
    folder = scratch_folder("dynamodb")
    env = clean_env()
    shell = subprocess.Popen(
        ["bash", "-c", script], cwd=folder, env={**env, "REGISTRAR_ADDR": f"127.0.0.1:{api_port}"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        wait_for(api_port, shell, "the DynamoDB block")
        sign_up, _ = curl_blocks()
        output = run_curl(sign_up, api_port, folder, env)
        in_order(output, SIGN_UP, "dynamodb")
    finally:
        stop(shell)
    # What the API printed at start: the table it used, on moto.
    banner = shell.stdout.read()
    check("dynamodb: the banner names the table at moto's endpoint",
          f"Store: DynamoDB table registrar at http://127.0.0.1:{moto_port}" in banner, banner[-1500:])


# What the operator CLI block's lines print (first match wins); any line not
# listed must exit 0. `absent` is what a line must not print.
CLI_EXPECTED = [
    ("cargo build --bin registrar-admin", None, None),
    ("create-table", r"table registrar ready", None),
    ("secrets create", None, None),
    ("tenant create acme", r"^created acme\tAcme Corp\tphone_required=false", None),
    ("tenant list", r"^acme\tAcme Corp\t", None),
    ("--json tenant show acme", r'^\{\s*"id": "acme"', None),
    ("tenant show acme", r'"id": "acme"', None),
    ("tenant set-policy acme --policy", r"phone_required=true", None),
    ("tenant set-policy acme --cors-origin", r"^updated acme", None),
    ("api-key create", r"api key \(shown once\): sk_", None),
    ("api-key list", r"\tshop-1\trevoked=false", r"sk_"),
    ("api-key revoke", None, None),
    ("admin-token issue", r"admin token \(shown once\): adm_", None),
    ("admin-token list", r"revoked=false", r"adm_"),
    ("admin-token revoke", None, None),
    ("service-owner create", r"created service owner usr_\w+ \(boss@acme\.example\)", None),
    ("user find", r"boss@acme\.example\tactive\tservice_owner\t.*failed_attempts=0\tlocked_until=", None),
    ("user show", r"boss@acme\.example", None),
    ("user unlock", r"unlocked", None),
    ("user revoke-sessions", r"sessions revoked", None),
    ("user status", r"active -> suspended", None),
    ("reference set", r"civil-statuses/SINGLE\tadded", None),
    ("reference list", r"civil-statuses", None),
    ("reference remove", r"civil-statuses/SINGLE\tremoved", None),
    ("signing-key add", r'added signing key "[\w-]+" \("next"\)', None),
    ("signing-key list", r"\tActive\t", None),
    ("signing-key activate", None, None),
    ("signing-key retire", None, None),
    ("signing-key remove", None, None),
    ("secrets rotate-code-key", None, None),
]


def cli_lines(block):
    """The block's commands: continuation lines joined, the commented moto
    set-up (indented comment lines) uncommented, comments and blanks out."""
    lines, pending = [], ""
    for raw in block.splitlines():
        line = raw[4:] if raw.startswith("#   ") else raw
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def cli():
    blocks = sh_blocks(section(OPERATIONS, "## Operator CLI"))
    assert len(blocks) == 1, "the operator CLI block of docs/operations.md is not where it was"
    moto_port = free_port()
    moto = subprocess.Popen(
        [os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "scripts", "moto-server.py"), str(moto_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        wait_for(moto_port, moto, "moto")
        lines = [line.replace("5000", str(moto_port)) for line in cli_lines(blocks[0])]
        setup = []  # assignments and exports, run again before every command
        found = {}  # placeholder -> value, from what earlier commands printed
        for line in lines:
            command = line.split("  #")[0].strip()
            if re.match(r"^(export )?[A-Z_]+=\S+(\s|$)", command) and " $A " not in f" {command} ":
                setup.append(command)
                continue
            unknown = [p for p in re.findall(r"<[a-z-]+>", command) if p not in found]
            if unknown:
                check(f"cli: {command}", False, f"nothing printed before it gives {unknown}")
                continue
            for placeholder, value in found.items():
                command = command.replace(placeholder, value)
            if command.startswith("$A create-table && $A secrets create"):
                # Before the set-up: a fresh moto's failure is one line with a hint.
                out = run_sh(setup, "$A signing-key list")
                check("cli: before `secrets create`, one line that says what to do",
                      out.returncode != 0 and out.stderr.count("\n") == 1 and "secrets create" in out.stderr,
                      out.stderr[:500])
            out = run_sh(setup, command)
            text = out.stdout + out.stderr
            pattern, absent = next(((p, a) for key, p, a in CLI_EXPECTED if key in command), (None, None))
            ok = out.returncode == 0 and (pattern is None or re.search(pattern, text, flags=re.M))
            ok = ok and (absent is None or not re.search(absent, out.stdout))
            check(f"cli: {command}", ok, f"exit {out.returncode}: {text[-600:]}")
            learn(command, out.stdout, found)
    finally:
        stop(moto)


def run_sh(setup, command):
    script = "\n".join(setup + [command])
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=clean_env(), capture_output=True, text=True,
                          timeout=600)


def learn(command, stdout, found):
    """The values later lines' placeholders stand for."""
    if m := re.search(r"^key id (\w+)", stdout, flags=re.M):
        found["<key-id>"] = m.group(1)
    if m := re.search(r"^token id (\w+)", stdout, flags=re.M):
        found["<token-id>"] = m.group(1)
    if m := re.search(r"created service owner (usr_\w+)", stdout):
        found["<user-id>"] = m.group(1)
    if m := re.search(r'added signing key "([\w-]+)"', stdout):
        found["<new-kid>"] = m.group(1)
    if "signing-key list" in command and (m := re.search(r"^([\w-]+)\tActive\t", stdout, flags=re.M)):
        # The key that signs before the new one is activated: it retires.
        found.setdefault("<old-kid>", m.group(1))


def main():
    binary = os.path.abspath(sys.argv[1])
    local(binary)
    dynamodb(binary)
    cli()
    print(f"readme: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
