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
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CARGO_LAMBDA_VERSION="${CARGO_LAMBDA_VERSION:-1.9.2}"
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
PIP_FLAGS=(--quiet --disable-pip-version-check)

if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/cargo-lambda" ]; then
  echo "== installing moto[server]==$MOTO_VERSION and cargo-lambda==$CARGO_LAMBDA_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install "${PIP_FLAGS[@]}" "moto[server]==$MOTO_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
if [ ! -x "$SAM_VENV/bin/sam" ] || [ ! -x "$SAM_VENV/bin/cfn-lint" ]; then
  echo "== installing cfn-lint==$CFN_LINT_VERSION and aws-sam-cli==$SAM_CLI_VERSION into $SAM_VENV"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install "${PIP_FLAGS[@]}" "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
fi

if [ ! -x "$ST_VENV/bin/st" ]; then
  echo "== installing schemathesis==$SCHEMATHESIS_VERSION into $ST_VENV"
  python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install "${PIP_FLAGS[@]}" "schemathesis==$SCHEMATHESIS_VERSION"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$VENV/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT

python3 - "$PORT" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json"
for _ in range(200):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("moto did not start; see .venv/moto.log")
PY
echo "== moto listening on 127.0.0.1:$PORT"
export REGISTRAR_TEST_MOTO_URL="http://127.0.0.1:$PORT"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== deployment checks: cfn-lint, sam validate --lint, event shapes"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-central-1}"
"$SAM_VENV/bin/cfn-lint" template.yaml
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

echo "== schemathesis against the local API"
bash scripts/schemathesis.sh

echo "== every function under cargo lambda watch, invoked with its event"
bash scripts/lambda-invoke.sh 2>&1 | tee -a "$LOG"

echo "== no secret in any log the suite wrote"
python3 scripts/scan-logs.py "$REGISTRAR_TEST_LOG_DIR"/* "$VENV/lambda-watch.log"

# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 }
     /^invoke: / { p += $2; f += $4 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$LOG"
