#!/usr/bin/env bash
# Starts `cargo lambda watch` (development mode, lambda-dev.env), invokes every
# function with its event from events/ through `cargo lambda invoke`, and
# checks each answer's status and problem code. Needs cargo-lambda on PATH
# (`make test` installs it into .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="$VENV/lambda-watch.log"
# Its own process group, so the functions it spawns stop with it.
setsid bash -c "cd functions && exec cargo lambda watch --env-file ../lambda-dev.env --invoke-address 127.0.0.1 --invoke-port $PORT" \
  > "$LOG" 2>&1 &
WATCH=$!
trap 'kill -- -"$WATCH" 2>/dev/null || true' EXIT

python3 - "$PORT" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("cargo lambda watch did not start; see the log")
PY

# What each function answers in development mode: a fresh in-memory store per
# function with the sandbox tenant, the events' API key and admin token.
declare -A EXPECTED=(
  [health]=200 [jwks]=200 [openid-configuration]=200 [preflight]=204 [start-registration]=202 [get-registration]=404:registration_not_found
  [verify-registration-email]=404:registration_not_found [add-registration-phone]=404:registration_not_found
  [verify-registration-phone]=404:registration_not_found [resend-registration-code]=404:registration_not_found
  [login]=401:invalid_credentials [send-sign-in-code]=202 [sign-in-with-code]=422:invalid_code [verify-mfa]=422:invalid_code [send-mfa-code]=404:challenge_not_found
  [complete-password-challenge]=404:challenge_not_found [accept-legal-documents]=404:challenge_not_found [refresh]=401:invalid_token [logout]=401:invalid_token
  [logout-all]=401:invalid_token [forgot-password]=202 [reset-password]=422:invalid_code
  [get-me]=401:invalid_token [update-me]=401:invalid_token [close-me]=401:invalid_token
  [add-credential]=401:invalid_token [verify-credential]=401:invalid_token [change-password]=401:invalid_token
  [list-sessions]=401:invalid_token [delete-session]=401:invalid_token [export-me]=401:invalid_token
  [get-factors]=401:invalid_token [enroll-totp]=401:invalid_token [confirm-totp]=401:invalid_token
  [remove-totp]=401:invalid_token [regenerate-recovery-codes]=401:invalid_token
  [begin-passkey-registration]=401:invalid_token [finish-passkey-registration]=401:invalid_token
  [delete-passkey]=401:invalid_token [passkey-sign-in-options]=200 [passkey-sign-in]=404:challenge_not_found
  [federated-token]=404:provider_not_found [list-identities]=401:invalid_token [link-identity]=401:invalid_token [unlink-identity]=401:invalid_token
  [create-user]=201 [import-users]=200 [list-users]=200 [get-user]=404:user_not_found [update-user]=404:user_not_found [change-user-status]=404:user_not_found
  [unlock-user]=404:user_not_found [reset-user-password]=404:user_not_found [revoke-user-sessions]=404:user_not_found
  [get-user-audit]=404:user_not_found [list-reference]=200 [get-reference]=200 [put-reference]=201 [delete-reference]=404:reference_not_found
  [oauth-token]=400:invalid_grant [oauth-userinfo]=401:invalid_token [oauth-revoke]=200 [oauth-logout]=302 [authorize]=400 [hosted-sign-in]=403
)

passed=0
failed=0
for event in events/*.json; do
  function=$(basename "$event" .json)
  expected="${EXPECTED[$function]:-missing}"
  answer=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$PORT" "$function" --data-file "$event" 2>&1 || true)
  if python3 - "$expected" "$answer" "$event" <<'PY'
import json, sys
expected, answer, event = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
status, _, code = expected.partition(":")
try:
    response = json.loads(answer)
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    # The hosted pages answer HTML, every other function JSON.
    html = headers.get("content-type", "").startswith("text/html")
    body = None if html else json.loads(response.get("body") or "null")
except ValueError:
    sys.exit(f"not an API Gateway response: {answer[:300]}")
if str(response.get("statusCode")) != status:
    sys.exit(f"status {response.get('statusCode')}, expected {status}: {answer[:300]}")
# A problem's `code`, or an OAuth 2.0 error's `error` (the /oauth2 routes).
said = (body or {}).get("code") or (body or {}).get("error")
if code and said != code:
    sys.exit(f"code {said}, expected {code}")
headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
# The request id is API Gateway's, so function and access logs share it.
if headers.get("x-request-id") != event["requestContext"]["requestId"]:
    sys.exit(f"x-request-id {headers.get('x-request-id')}, expected the event's requestContext.requestId")
origin = event["headers"].get("origin")
if event["requestContext"]["http"]["method"] == "OPTIONS" and headers.get("access-control-allow-origin") != origin:
    sys.exit(f"preflight for {origin} answered without it: {headers}")
PY
  then
    passed=$((passed + 1)); echo "ok   $function ($expected)"
  else
    failed=$((failed + 1)); echo "FAIL $function"
  fi
done
# Functions the table's stream invokes (events/streams/): a batch whose every
# record is done answers no batch item failure.
for event in events/streams/*.json; do
  function=$(basename "$event" .json)
  answer=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$PORT" "$function" --data-file "$event" 2>&1 || true)
  if python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]).get("batchItemFailures") != [])' "$answer" 2>/dev/null; then
    passed=$((passed + 1)); echo "ok   $function (no batch item failures)"
  else
    failed=$((failed + 1)); echo "FAIL $function: ${answer:0:300}"
  fi
done
# The emulator sets AWS_LAMBDA_MAX_CONCURRENCY; the functions honour it
# (run_concurrent), so no function start may warn about it.
if grep -q "AWS_LAMBDA_MAX_CONCURRENCY is set" "$LOG"; then
  failed=$((failed + 1)); echo "FAIL a function warned about AWS_LAMBDA_MAX_CONCURRENCY: $(grep -m1 AWS_LAMBDA_MAX_CONCURRENCY "$LOG")"
else
  passed=$((passed + 1)); echo "ok   no function start warned about AWS_LAMBDA_MAX_CONCURRENCY"
fi
echo "invoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
