#!/usr/bin/env bash
# The one test command (`make test`): installs moto into .venv, starts its
# server on a free loopback port, runs formatting, lint and every test of the
# workspace, and stops moto again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"

if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "== installing moto[server]==$MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
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
echo "== cargo test"
LOG="$VENV/test.log"
cargo test --workspace --exclude registrar-functions 2>&1 | tee "$LOG"
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$LOG"
