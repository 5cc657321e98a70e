#!/usr/bin/env bash
# Runs schemathesis (from .venv-st) against the local API on a free port:
#   1. every operation of docs/openapi.json with the sandbox API key and the
#      admin token (so /v1/users is exercised past authentication);
#   2. the /v1/me (sessions included), logout and logout-all operations with
#      the access token of a user signed up through the API
#      (scripts/schemathesis_hooks.py logs in again whenever logout, or
#      DELETE /v1/me/sessions/{id} of its own session, has ended the session). This run uses a second
#      server whose sandbox tenant asks for no phone, so the login needs no
#      2FA code.
# Every check but positive_data_acceptance, a few hundred examples each.
#
# positive_data_acceptance is left out because Registrar rightly refuses
# schema-valid input that breaks business rules JSON Schema cannot express
# (common passwords, a password containing the e-mail, unknown time zones,
# invalid phone numbers, codes of the tenant's length, character classes of a
# new password). The schema says what JSON Schema can: new passwords of 8–32
# characters, codes of digits, terms accepted as `true`.
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VENV="${ST_VENV:-.venv-st}"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-200}"

cargo build --quiet --bin registrar
WORK=$(mktemp -d)
SERVERS=()
finish() {
  kill "${SERVERS[@]}" 2>/dev/null || true
  # The servers' logs join the suite's for scripts/scan-logs.py.
  if [ -n "${REGISTRAR_TEST_LOG_DIR:-}" ]; then
    mkdir -p "$REGISTRAR_TEST_LOG_DIR"
    for dir in "$WORK"/*/; do
      cp "$dir/server.log" "$REGISTRAR_TEST_LOG_DIR/schemathesis-$(basename "$dir").log" 2>/dev/null || true
    done
  fi
  rm -rf "$WORK"
}
trap finish EXIT
API_KEY="sk_schemathesis_$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
ADMIN="adm_schemathesis_$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
SANDBOX_CODE=246810

# start_server NAME [VAR=value...]: the local API on a free port; sets PORT.
start_server() {
  local name=$1
  shift
  PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/$name"
  env REGISTRAR_ADDR="127.0.0.1:$PORT" REGISTRAR_API_KEY="$API_KEY" REGISTRAR_ADMIN_TOKEN="$ADMIN" \
    REGISTRAR_OUTBOX_DIR="$WORK/$name/outbox" REGISTRAR_SANDBOX_CODE="$SANDBOX_CODE" \
    REGISTRAR_SIGN_IN_METHODS=password,email_code,sms_code,passkey \
    REGISTRAR_LOG_FORMAT=json RUST_LOG="info,shared=debug,registrar=debug" "$@" \
    target/debug/registrar > "$WORK/$name/server.log" 2>&1 &
  SERVERS+=($!)
  python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/health")
        sys.exit(0)
    except OSError:
        time.sleep(0.25)
sys.exit("the local API did not start")
PY
}

run() {
  "$ST_VENV/bin/st" run "http://127.0.0.1:$PORT/v1/openapi.json" \
    --url "http://127.0.0.1:$PORT" \
    --header "X-API-Key: $API_KEY" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
    --max-examples "$EXAMPLES" \
    --continue-on-failure \
    "$@"
}

echo "schemathesis: every operation, admin token"
start_server admin
run --header "Authorization: Bearer $ADMIN"

echo "schemathesis: /v1/me and logout as a signed-in user"
start_server user REGISTRAR_PHONE_REQUIRED=false
USERNAME="schemathesis-user@example.com"
PASSWORD="Orchid!Lantern58"
python3 - "$PORT" "$API_KEY" "$USERNAME" "$PASSWORD" "$SANDBOX_CODE" <<'PY'
import json, sys, urllib.request
port, key, email, password, code = sys.argv[1:]
def call(path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status, json.load(response)
_, started = call("/v1/registrations", {"email": email, "password": password, "first_name": "Schema",
                                        "last_name": "Thesis", "terms_accepted": True, "privacy_policy_accepted": True})
status, done = call(f"/v1/registrations/{started['registration_id']}/email/verify", {"code": code})
assert status == 201 and "access_token" in done, (status, done)
PY
REGISTRAR_ST_PORT="$PORT" REGISTRAR_ST_API_KEY="$API_KEY" REGISTRAR_ST_USERNAME="$USERNAME" \
  REGISTRAR_ST_PASSWORD="$PASSWORD" REGISTRAR_ST_CODE="$SANDBOX_CODE" SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py \
  PHASES=examples,coverage,fuzzing run --include-path-regex '^/v1/(me|auth/logout)'
