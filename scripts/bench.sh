#!/usr/bin/env bash
# `make bench`: every benchmark of Registrar, then BENCHMARKS.md.
#
#   1. CPU per endpoint, one login against Debian's `argon2` (registrar-bench cpu)
#   2. DynamoDB round trips and capacity per endpoint on moto (registrar-bench dynamodb)
#   3. load on the local API with wrk (scripts/bench/load.sh)
#   4. release binary sizes, cold start, warm latency and peak memory of every
#      function under a Lambda Runtime API emulator (scripts/bench/coldstart.py)
#   4b. load on the Lambda path: the hot functions' binaries, several
#      processes each, under the same emulator against moto
#      (scripts/bench/lambda_load.py)
#   5. the cost of 1 million monthly active users and the capacity model of
#      one tenant (scripts/bench/report.py; the model's inputs and results in
#      target/bench/capacity.json)
#   and users imported per second (registrar-bench import; report.py --only
#   import target/bench BENCHMARKS.md renders that section alone)
#
# Installs what it needs: Debian's argon2 and wrk (apt-get), moto into .venv.
# Figures land in target/bench/; the report in BENCHMARKS.md.
#   BENCH_LIVES (default 100), LOAD_SECONDS (15), LOAD_CONNECTIONS (8),
#   LAMBDA_LOAD_USERS (40), LAMBDA_LOAD_PROCESSES (3), LAMBDA_LOAD_REPEAT (4)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
VENV="${VENV:-.venv}"
MOTO_VERSION=5.2.5
mkdir -p "$OUT"

need() {
  command -v "$1" > /dev/null && return
  echo "== installing Debian's $2"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends "$2" > /dev/null \
    || { $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends "$2" > /dev/null; }
}
need argon2 argon2
need wrk wrk
if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "== installing moto==$MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

echo "== release build of the functions (alone, as \`sam build\` builds them)"
started=$(date +%s)
cargo build --release -p registrar-functions
echo "{\"release_build_s\": $(( $(date +%s) - started ))}" > "$OUT/build.json"
echo "== release build of the local API, the operator CLI and the bench runner"
cargo build --release -p registrar-bench -p registrar --bins

echo "== 1. CPU per endpoint and argon2"
target/release/registrar-bench cpu "$OUT/cpu.json" "${BENCH_LIVES:-100}"
echo "== 1b. the RSA floor: OpenSSL's own RS256-sized signature (openssl speed rsa2048)"
# `-mr` prints `+F2:<n>:2048:<signs per second>:<verifies per second>`.
openssl speed -seconds 3 -mr rsa2048 2> /dev/null | python3 -c '
import json, sys
line = next(l for l in sys.stdin if l.startswith("+F2:"))
signs = float(line.split(":")[3])
json.dump({"version": sys.argv[1], "rsa2048_sign_us": 1e6 / signs}, open(sys.argv[2], "w"))
' "$(openssl version)" "$OUT/openssl.json"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VENV/bin/python" scripts/moto-server.py "$PORT" > "$OUT/moto.log" 2>&1 &
MOTO=$!
trap 'kill "$MOTO" 2>/dev/null || true' EXIT
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("moto did not start")
PY

echo "== 2. DynamoDB round trips and capacity (moto)"
target/release/registrar-bench dynamodb "$OUT/dynamodb.json" "http://127.0.0.1:$PORT"

echo "== 2b. users imported per second (embedded store and moto)"
target/release/registrar-bench import "$OUT/import.json" "http://127.0.0.1:$PORT"

echo "== 3. load (wrk)"
bash scripts/bench/load.sh "$OUT/load.jsonl"

echo "== 4. Lambda shape: sizes, cold start, memory"
python3 scripts/bench/coldstart.py target/release "http://127.0.0.1:$PORT" "$OUT/coldstart.json"

echo "== 4b. load on the Lambda path (release binaries, Runtime API emulator, moto)"
python3 scripts/bench/lambda_load.py target/release "http://127.0.0.1:$PORT" "$OUT/lambda-load.json"

echo "== 5. BENCHMARKS.md"
python3 scripts/bench/report.py "$OUT" BENCHMARKS.md
