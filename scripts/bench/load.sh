#!/usr/bin/env bash
# Load test of the local API (release build, in-memory store, outbox in a
# temporary folder) with wrk: start-registration, login and refresh at fixed
# concurrency; one JSON line per run into $1. Every answer must be 2xx.
#   LOAD_SECONDS (default 15), LOAD_CONNECTIONS (default 8)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$1
SECONDS_EACH="${LOAD_SECONDS:-15}"
CONNECTIONS="${LOAD_CONNECTIONS:-8}"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
API_KEY="sk_load_$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
# One address sends everything, so the per-IP limits are raised; no phone,
# so a login answers tokens without 2FA.
REGISTRAR_ADDR="127.0.0.1:$PORT" REGISTRAR_API_KEY="$API_KEY" REGISTRAR_OUTBOX_DIR="$WORK/outbox" \
  REGISTRAR_SANDBOX_CODE=135790 REGISTRAR_PHONE_REQUIRED=false REGISTRAR_IP_LIMIT=1000000000 \
  target/release/registrar > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A signed-up user, and one refresh token per wrk thread (its own device).
python3 - "$PORT" "$API_KEY" "$WORK/tokens" "$CONNECTIONS" "$WORK/devices" <<'PY'
import json, sys, time, urllib.request
port, key, tokens_file, n, devices_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
base = f"http://127.0.0.1:{port}"
def call(path, body, device=None):
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    if device:
        headers["X-Device-ID"] = device
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.load(response)
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/v1/health")
        break
    except OSError:
        time.sleep(0.1)
started = call("/v1/registrations", {"email": "load-user@example.com", "password": "Orchid!Lantern58",
                                     "first_name": "Load", "last_name": "User", "terms_accepted": True,
                                     "privacy_policy_accepted": True})
call(f"/v1/registrations/{started['registration_id']}/email/verify", {"code": "135790"})
with open(tokens_file, "w") as f, open(devices_file, "w") as d:
    for i in range(1, n + 1):
        tokens = call("/v1/auth/login", {"username": "load-user@example.com", "password": "Orchid!Lantern58"},
                      device=f"load-device-{i}")
        f.write(tokens["refresh_token"] + "\n")
        d.write(tokens["device_token"] + "\n")
PY

run() {
  local mode=$1 threads=$2
  echo "load: $mode, $CONNECTIONS connections, ${SECONDS_EACH}s" >&2
  MODE=$mode CONNECTIONS=$CONNECTIONS API_KEY=$API_KEY USERNAME=load-user@example.com TOKENS="$WORK/tokens" \
    DEVICES="$WORK/devices" \
    wrk -t "$threads" -c "$CONNECTIONS" -d "${SECONDS_EACH}s" --timeout 10s -s scripts/bench/wrk.lua \
    "http://127.0.0.1:$PORT" | grep '^{' >> "$OUT"
}
: > "$OUT"
run start-registration 2
run login 2
# One connection per thread: each follows its own chain of rotated tokens.
run refresh "$CONNECTIONS"
cat "$OUT"
