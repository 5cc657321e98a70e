#!/usr/bin/env python3
"""Searches log files for secrets; exits 1 on the first kind of leak found.

    python3 scripts/scan-logs.py FILE...

The test command gives it every log the suite wrote: each test process's
(REGISTRAR_TEST_LOG_DIR, see shared::testing::capture_logs), the local API's
under schemathesis, and `cargo lambda watch`'s. It looks for
  - argon2 hashes (`$argon2`),
  - JWTs (three base64url parts, the first starting `eyJ`),
  - API keys, admin tokens and refresh tokens (`sk_…`, `adm_…`, `rt_…`),
  - codes: a run of 4 to 10 digits standing alone outside the timestamp,
  - every password the tests use (string literals on lines of tests/ and of
    the scripts that mention a password).
Before scanning it checks that each detector catches a sample, so a broken
pattern cannot pass silently.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATTERNS = {
    "argon2 hash": re.compile(r"\$argon2(id|i|d)\$"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "key or token": re.compile(r"(?<![A-Za-z0-9])(sk|adm|rt)_[A-Za-z0-9_-]{8,}"),
    "code": re.compile(r"(?<![A-Za-z0-9.:_-])[0-9]{4,10}(?![A-Za-z0-9_-])"),
}
LITERAL = re.compile(r'"([^"\s{}/\\]{8,64})"')


def passwords():
    found = set()
    sources = list((ROOT / "tests").rglob("*.rs")) + list((ROOT / "scripts").glob("*"))
    sources.append(ROOT / "shared" / "src" / "testing.rs")
    for path in sources:
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if "password" in line.lower():
                    found.update(m for m in LITERAL.findall(line) if "password" not in m.lower() and not m.isdigit())
    return found


def text_of(line):
    """The line without its timestamp (whose fraction is a run of digits) and
    without request ids, which the caller chooses (X-Request-ID is echoed)."""
    try:
        record = json.loads(line)
    except ValueError:
        line = re.sub(r"^\S*\d{4}-\d\d-\d\dT[\d:.]+Z?\s*", "", line)
        return re.sub(r"request_id=\S+", "", line)
    if isinstance(record, dict):
        record.pop("timestamp", None)
        for span in [record.get("span")] + list(record.get("spans") or []):
            if isinstance(span, dict):
                span.pop("request_id", None)
    return json.dumps(record, ensure_ascii=False)


def leaks(text, secrets):
    kinds = [kind for kind, pattern in PATTERNS.items() if pattern.search(text)]
    kinds += ["password" for secret in secrets if secret in text][:1]
    return kinds


def self_check(secrets):
    samples = {
        "argon2 hash": "hash=$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "JWT": "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3IifQ.c2lnbmF0dXJl",
        "key or token": "key sk_live_0123456789abcdef",
        "code": '{"message":"your code is 918273"}',
    }
    for kind, sample in samples.items():
        assert kind in leaks(sample, set()), f"the {kind} detector misses {sample!r}"
    clean = '{"fields":{"message":"answered","status":200},"span":{"request_id":"req_01a2158125f6"}}'
    assert leaks(clean, secrets) == [], f"a clean line is flagged: {leaks(clean, secrets)}"
    assert secrets, "no test password found in tests/ and scripts/"
    sample = next(iter(sorted(secrets)))
    assert "password" in leaks(f"body {sample}", secrets), "the password detector misses a test password"


def main(paths):
    secrets = passwords()
    self_check(secrets)
    lines = 0
    found = 0
    for name in paths:
        path = pathlib.Path(name)
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                lines += 1
                kinds = leaks(text_of(line.rstrip("\n")), secrets)
                if kinds:
                    found += 1
                    if found <= 20:
                        print(f"{path}:{number}: {', '.join(kinds)}: {line.strip()[:300]}")
    print(f"logs: {lines} lines in {len(paths)} files scanned, {found} with a secret "
          f"(detectors: {', '.join(PATTERNS)}, {len(secrets)} test passwords)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
