#!/usr/bin/env bash
# Times a cold `bash .ci/run`: a fresh clone of HEAD with an empty target/
# (every crate compiled), each phase of the test command timestamped as it
# starts. Writes target/bench/ci-time.json (the total, the tools'
# installation, and each phase), which scripts/bench/report.py renders into
# BENCHMARKS.md ("CI time").
#
#   bash scripts/ci-time.sh            # about 30 minutes on 2 cores
#
# The clone installs its own virtualenvs (moto, cargo-lambda, SAM, the
# browser, schemathesis) from the package index; that time is reported
# apart, as "tools", since a CI machine that caches them skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT="$ROOT/target/bench/ci-time.json"
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d /tmp/registrar-ci-time-XXXXXX)
git clone -q "$ROOT" "$WORK/repo"
COMMIT=$(git -C "$WORK/repo" rev-parse --short HEAD)
START=$(date +%s)
set +e
(cd "$WORK/repo" && CARGO_INCREMENTAL=0 bash .ci/run) 2>&1 | while IFS= read -r line; do
  case "$line" in
    "== "*) echo "$(( $(date +%s) - START )) ${line#== }" >> "$WORK/phases" ;;
  esac
  echo "$line" >> "$WORK/ci.log"
done
STATUS=${PIPESTATUS[0]}
set -e
TOTAL=$(( $(date +%s) - START ))
python3 - "$WORK/phases" "$WORK/ci.log" "$OUT" "$TOTAL" "$STATUS" "$COMMIT" "$(nproc)" <<'PY'
import json, re, sys
phases_file, log, out, total, status, commit, cores = sys.argv[1:]
total = int(total)
marks = [(int(at), name) for at, name in (l.split(" ", 1) for l in open(phases_file).read().splitlines())]
phases = [{"phase": name, "seconds": (marks[n + 1][0] if n + 1 < len(marks) else total) - at}
          for n, (at, name) in enumerate(marks)]
tools = sum(p["seconds"] for p in phases if p["phase"].startswith("installing"))
summary = re.findall(r"^tests: (\d+) passed, (\d+) failed", open(log).read(), flags=re.M)
json.dump({"commit": commit, "cores": int(cores), "exit": int(status), "total_seconds": total,
           "tools_seconds": tools, "phases": phases,
           "tests": {"passed": int(summary[-1][0]), "failed": int(summary[-1][1])} if summary else None},
          open(out, "w"), indent=2)
print(f"ci-time: exit {status}, {total} s in all, {total - tools} s without installing the tools; wrote {out}")
PY
exit "$STATUS"
