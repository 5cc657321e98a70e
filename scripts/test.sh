#!/usr/bin/env bash
# The one test command (`make test`): installs what the tests need into local
# virtualenvs (moto and cargo-lambda in .venv; cfn-lint and the SAM CLI in
# .venv-sam), starts moto's server on a free loopback port, runs formatting,
# lint, every test of the workspace and the deployment checks, and stops
# moto again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
SAM_VENV=.venv-sam
ST_VENV=.venv-st
BROWSER_VENV=.venv-browser
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CARGO_LAMBDA_VERSION="${CARGO_LAMBDA_VERSION:-1.9.2}"
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
# The tools other systems hash passwords with (tests/api/import.rs).
HASH_VENV=.venv-hashes
HASH_TOOLS=(bcrypt==5.0.0 Django==5.2.20 passlib==1.7.4 argon2-cffi==25.1.0 firebase-scrypt==0.1.0)
PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.65.2}"
PYJWT_VERSION="${PYJWT_VERSION:-2.15.1}"
# Authlib: a second OpenID Connect client, for a confidential app (scripts/authlib-test.py).
AUTHLIB_VERSION="${AUTHLIB_VERSION:-1.9.6}"
REQUESTS_VERSION="${REQUESTS_VERSION:-2.32.5}"
STANDARDWEBHOOKS_VERSION="${STANDARDWEBHOOKS_VERSION:-1.3.0}"
# A certified OpenID Connect relying party and a browser driver, from npm.
NODE_DIR=.node
OPENID_CLIENT_VERSION="${OPENID_CLIENT_VERSION:-6.9.1}"
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.2}"
OIDC_PROVIDER_VERSION="${OIDC_PROVIDER_VERSION:-9.13.3}"
JOSE_VERSION="${JOSE_VERSION:-6.2.19}"
PIP_FLAGS=(--quiet --disable-pip-version-check)

if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  echo "== installing moto[server]==$MOTO_VERSION and cargo-lambda==$CARGO_LAMBDA_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "moto[server]==$MOTO_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
# The Standard Webhooks reference library checks the hooks' signatures.
if ! "$VENV/bin/python" -c "import standardwebhooks" 2>/dev/null; then
  echo "== installing standardwebhooks==$STANDARDWEBHOOKS_VERSION into $VENV"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "standardwebhooks==$STANDARDWEBHOOKS_VERSION"
fi
if [ ! -x "$SAM_VENV/bin/sam" ] || [ ! -x "$SAM_VENV/bin/cfn-lint" ]; then
  echo "== installing cfn-lint==$CFN_LINT_VERSION and aws-sam-cli==$SAM_CLI_VERSION into $SAM_VENV"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install "${PIP_FLAGS[@]}" "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
fi

# A real browser for tests/browser: Debian's Chromium (Playwright cannot
# download its own here) driven by Playwright from PyPI; PyJWT as a client we
# did not write.
if ! command -v chromium > /dev/null; then
  echo "== installing chromium (apt-get)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
if [ ! -x "$BROWSER_VENV/bin/playwright" ]; then
  echo "== installing playwright==$PLAYWRIGHT_VERSION and PyJWT==$PYJWT_VERSION into $BROWSER_VENV"
  python3 -m venv "$BROWSER_VENV"
  "$BROWSER_VENV/bin/pip" install "${PIP_FLAGS[@]}" "playwright==$PLAYWRIGHT_VERSION" "PyJWT[crypto]==$PYJWT_VERSION"
fi
if ! "$BROWSER_VENV/bin/python" -c "import authlib, requests" 2>/dev/null; then
  echo "== installing authlib==$AUTHLIB_VERSION and requests==$REQUESTS_VERSION into $BROWSER_VENV"
  "$BROWSER_VENV/bin/pip" install "${PIP_FLAGS[@]}" "authlib==$AUTHLIB_VERSION" "requests==$REQUESTS_VERSION"
fi

NODE_TOOLS="openid-client@$OPENID_CLIENT_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION oidc-provider@$OIDC_PROVIDER_VERSION jose@$JOSE_VERSION"
if [ "$(cat "$NODE_DIR/installed" 2>/dev/null)" != "$NODE_TOOLS" ]; then
  echo "== installing $NODE_TOOLS into $NODE_DIR"
  # shellcheck disable=SC2086 # a list of packages, split on purpose
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --silent $NODE_TOOLS
  echo "$NODE_TOOLS" > "$NODE_DIR/installed"
fi

if [ ! -f "$HASH_VENV/installed" ]; then
  echo "== installing ${HASH_TOOLS[*]} into $HASH_VENV"
  python3 -m venv "$HASH_VENV"
  "$HASH_VENV/bin/pip" install "${PIP_FLAGS[@]}" "${HASH_TOOLS[@]}"
  touch "$HASH_VENV/installed"
fi

if [ ! -x "$ST_VENV/bin/st" ]; then
  echo "== installing schemathesis==$SCHEMATHESIS_VERSION into $ST_VENV"
  python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install "${PIP_FLAGS[@]}" "schemathesis==$SCHEMATHESIS_VERSION"
fi

# moto on one thread (scripts/moto-server.py says why): one instance for the
# adapters' and flows' tests, and one that enforces IAM after its first
# requests, for the functions' policies (tests/deploy/iam.rs).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for_moto() {
  python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json"
for _ in range(200):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(f"moto did not start; see {sys.argv[2]}")
PY
}
PORT=$(free_port)
"$VENV/bin/python" scripts/moto-server.py "$PORT" > "$VENV/moto.log" 2>&1 &
MOTO_PID=$!
IAM_PORT=$(free_port)
# tests/deploy/iam.rs makes an administrator with the 3 unchecked requests (user,
# policy, access key); every later request is checked against IAM.
INITIAL_NO_AUTH_ACTION_COUNT=3 "$VENV/bin/python" scripts/moto-server.py "$IAM_PORT" > "$VENV/moto-iam.log" 2>&1 &
IAM_PID=$!
trap 'kill "$MOTO_PID" "$IAM_PID" 2>/dev/null || true' EXIT
wait_for_moto "$PORT" "$VENV/moto.log"
wait_for_moto "$IAM_PORT" "$VENV/moto-iam.log"
echo "== moto listening on 127.0.0.1:$PORT (one thread), IAM-enforcing moto on 127.0.0.1:$IAM_PORT"
export REGISTRAR_TEST_MOTO_URL="http://127.0.0.1:$PORT"
export REGISTRAR_TEST_PYTHON="$PWD/$VENV/bin/python"
export REGISTRAR_TEST_MOTO_IAM_URL="http://127.0.0.1:$IAM_PORT"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== no import cycles between the shared crate's modules (docs/architecture.md)"
python3 scripts/import-cycles.py

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== deployment checks: cfn-lint, sam validate --lint, event shapes"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
# Informational findings too (e.g. a stateful resource without an explicit
# deletion policy).
"$SAM_VENV/bin/cfn-lint" template.yaml --include-checks I
"$SAM_VENV/bin/sam" validate --lint
"$SAM_VENV/bin/sam" local generate-event apigateway http-api-proxy --method POST --path /v1/x --body '{}' \
  > "$VENV/reference-event.json"
python3 scripts/check-events.py "$VENV/reference-event.json" events/*.json

echo "== cargo test"
LOG="$VENV/test.log"
# Every test process writes its logs here (shared::testing::capture_logs).
export REGISTRAR_TEST_LOG_DIR="$PWD/$VENV/test-logs"
rm -rf "$REGISTRAR_TEST_LOG_DIR"
cargo test --workspace --exclude registrar-functions 2>&1 | tee "$LOG"

echo "== a real browser against the local API (CORS, cookie refresh), PyJWT through discovery"
"$BROWSER_VENV/bin/python" scripts/browser-test.py target/debug/registrar 2>&1 | tee -a "$LOG"

echo "== an OpenID Connect app (openid-client) signing in through the hosted pages in Chromium"
node scripts/oidc-test.mjs target/debug/registrar 2>&1 | tee -a "$LOG"

echo "== sign-in with other identity providers (oidc-provider, an Apple stand-in) through the hosted pages"
node scripts/idp-test.mjs target/debug/registrar 2>&1 | tee -a "$LOG"

echo "== a confidential OpenID Connect app (Authlib, client_secret_basic) through the hosted pages"
"$BROWSER_VENV/bin/python" scripts/authlib-test.py target/debug/registrar 2>&1 | tee -a "$LOG"

echo "== the documentation's shell blocks, as written: the README's curl sign-up and login and DynamoDB mode, docs/operations.md's operator CLI"
python3 scripts/readme-blocks.py target/debug/registrar 2>&1 | tee -a "$LOG"

echo "== schemathesis against the local API"
bash scripts/schemathesis.sh

echo "== every function under cargo lambda watch, invoked with its event"
bash scripts/lambda-invoke.sh 2>&1 | tee -a "$LOG"

echo "== no secret in any log the suite wrote"
python3 scripts/scan-logs.py "$REGISTRAR_TEST_LOG_DIR"/* "$VENV/lambda-watch.log"

# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 }
     /^(invoke|browser|readme|oidc|idp|authlib): / { p += $2; f += $4 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$LOG"
