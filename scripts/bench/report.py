#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the figures scripts/bench.sh collected.

    python3 scripts/bench/report.py target/bench BENCHMARKS.md
    python3 scripts/bench/report.py --only import target/bench BENCHMARKS.md
    python3 scripts/bench/report.py --only capacity target/bench BENCHMARKS.md
    python3 scripts/bench/report.py --only lambda-load target/bench BENCHMARKS.md
    python3 scripts/bench/report.py --only endpoints target/bench BENCHMARKS.md

`--only SECTION` renders one section alone into the report as it stands:
`import` from import.json (`registrar-bench import`), `capacity` (the
capacity model of one tenant, also written to capacity.json) from cpu.json
and dynamodb.json, `lambda-load` from lambda-load.json
(scripts/bench/lambda_load.py).
"""
import datetime
import json
import math
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent

# AWS list prices, us-east-1, as published on the services' pricing pages
# (checked 2026-11). Change them here; the report recomputes.
PRICE = {
    "lambda_gb_s": 0.0000133334,  # arm64, per GB-second
    "lambda_request": 0.20 / 1e6,
    "ddb_write_unit": 0.625 / 1e6,  # on demand, per write request unit
    "ddb_read_unit": 0.125 / 1e6,  # on demand, per read request unit
    "ddb_storage_gb": 0.25,  # per GB-month
    "http_api_request": 1.00 / 1e6,  # API Gateway HTTP API, first 300 M
    "ses_email": 0.10 / 1000,
    "sms": 0.0075,  # SNS transactional SMS to the US incl. carrier fee; many countries cost more
}
# Cognito user pools, per monthly active user (MAU), first 10,000 free.
COGNITO_LITE = [(10_000, 0.0), (100_000, 0.0055), (1_000_000, 0.0046), (10_000_000, 0.00325), (math.inf, 0.0025)]
COGNITO_ESSENTIALS = 0.015
COGNITO_PLUS = 0.020

MAU = 1_000_000
# Requests per monthly active user per month (assumptions, see the report).
ACTIVITY = {
    "start-registration": 0.08, "get-registration": 0.16, "verify-registration-email": 0.08,
    "add-registration-phone": 0.08, "verify-registration-phone": 0.08, "resend-registration-code": 0.01,
    "login": 2.0, "verify-mfa": 2.0, "refresh": 60.0, "get-me": 20.0, "update-me": 0.2,
    "logout": 1.0, "forgot-password": 0.03, "reset-password": 0.03, "change-password": 0.01,
    "add-credential": 0.01, "verify-credential": 0.01, "close-me": 0.002, "jwks": 0.01,
    "list-reference": 0.08, "health": 0.0,
}
EMAILS_PER_MAU = 0.08 + 0.03 + 0.01  # sign-up codes, reset codes, credential codes
SMS_PER_MAU = 0.08 + 2.0  # sign-up phone codes, a 2FA code per login (phone required by default)
# The second scenario: 2FA by an authenticator app or a passkey by default.
# Its logins send no SMS; the sign-up still verifies a phone where the
# tenant requires one. An app answer rewrites the user item in the login's
# transaction (2 write units per KB) and counts two tries (1 unit each).
SMS_PER_MAU_APP = 0.08
APP_ANSWER_WRITE_UNITS = 2 * 6.0 + 2
DYNAMODB_LATENCY_MS = 6.0  # assumed in-region round trip (GetItem ~3 ms, transactions ~8 ms)
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
STORED_KB_PER_USER = 6.0  # user, two locks, sessions, refresh records, audit entries
REGISTERED_USERS = 3 * MAU


def load(directory, name):
    path = directory / name
    return json.loads(path.read_text()) if path.exists() else None


def senders_by_function():
    """The functions the template lets send e-mail or SMS (SES or SNS actions)."""
    text = (ROOT / "template.yaml").read_text()
    found = set()
    for block in re.split(r"\n  \w+Function:\n", text)[1:]:
        name = re.search(r"Binary: ([\w-]+)", block)
        if name and ("ses:SendEmail" in block or "sns:Publish" in block):
            found.add(name.group(1))
    return found


def memory_by_function():
    text = (ROOT / "template.yaml").read_text()
    out = {}
    for block in re.split(r"\n  (?=\w+Function:\n)", text):
        binary = re.search(r"Binary: ([\w-]+)", block)
        memory = re.search(r"MemorySize: (\d+)", block)
        if binary and memory:
            out[binary.group(1)] = int(memory.group(1))
    return out


def machine():
    cpu = "unknown"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", pathlib.Path("/proc/meminfo").read_text()).group(1))
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    import os
    return f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB, Linux {platform.release()}, {rustc}"


def cognito_lite(mau):
    cost, previous = 0.0, 0
    for upper, price in COGNITO_LITE:
        users = max(0, min(mau, upper) - previous)
        cost += users * price
        previous = upper
        if mau <= upper:
            break
    return cost


def fmt_us(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def worst_call(dynamo, function):
    """The call of the life with the most round trips (login: with 2FA)."""
    calls = dynamo["endpoints"].get(function, [])
    return max(calls, key=lambda c: c["round_trips"]) if calls else None


def est_duration_ms(cpu, dynamo, memory, function, calls=None):
    """A call's estimated duration on Lambda: its CPU at the memory's share
    of a vCPU, plus DYNAMODB_LATENCY_MS per round trip (of `calls`, or of
    the function's worst call)."""
    mem = memory.get(function, 128)
    cpu_ms = cpu["endpoints"][function]["cpu"]["median_us"] / 1000
    calls = calls or worst_call(dynamo, function)
    trips = calls["round_trips"] if calls else 0
    return math.ceil(cpu_ms * max(1.0, FULL_VCPU_MB / mem) + trips * DYNAMODB_LATENCY_MS)


# ---------------------------------------------------------------------------
# Capacity model: one tenant at SCALE's rates (SPEC §15), from the measured
# DynamoDB calls (dynamodb.json: units and each round trip's partition keys)
# and the per-endpoint duration model above.

SCALE = {"sign-ups": 10_000, "logins": 50_000, "refreshes": 200_000}
# What one of each is, in the functions the bench's life calls (a sign-up on
# the default policy: a phone is required, so completion is its code).
SIGN_UP = ["start-registration", "verify-registration-email", "add-registration-phone", "verify-registration-phone"]
LOGIN_SMS = ["login", "verify-mfa"]  # the login's challenge (an SMS is sent), then its answer
LOGIN_PLAIN = ["login(plain)"]  # a user without 2FA: tokens at once
REFRESH = ["refresh"]
SECONDS_PER_MONTH = 30 * 24 * 3600
# DynamoDB's per-partition ceilings.
PARTITION_WCU, PARTITION_RCU = 1_000, 3_000
# AWS's published default quotas, as read on QUOTAS_DATE (not verified
# against an account here; most are adjustable through Service Quotas).
QUOTAS_DATE = "2026-12-07"
QUOTA = {
    "http_api_rps": 10_000,  # API Gateway: requests per second per account per Region (burst 5,000)
    "lambda_concurrency": 1_000,  # concurrent executions per account per Region
    "lambda_scaling_per_10s": 1_000,  # each function: +1,000 concurrent executions every 10 s
    "ddb_table_rcu": 40_000,  # on-demand maximum throughput per table (read request units/s)
    "ddb_table_wcu": 40_000,
    "ses_per_s": 14,  # SES sending rate of a new production account (the sandbox: 1/s, 200 a day)
    "sns_sms_per_s": 20,  # SNS transactional SMS per second per account
    "sns_sms_spend_usd": 1.0,  # SNS SMS monthly spend limit, default
    "cognito_user_creation_rps": 50,  # UserCreation (SignUp, ConfirmSignUp, …), verified in AWS's guide
    "cognito_user_authentication_rps": 120,  # InitiateAuth incl. refresh: as published, not verified here
}
HTTP_API_TIER = (300e6, 0.90 / 1e6)  # HTTP API: $1.00 per million for the first 300 M a month, then $0.90
SHARD_SUFFIX = re.compile(r"^(.*)#(\d{1,4})$")
# Per-address limits (`RATE#login-ip#{tenant}#{address}`): the bench's users
# share one address, a tenant's users many, so these are per client.
PER_ADDRESS = re.compile(r"^RATE#[\w-]*-ip#")


def _trace_units(line):
    """(operation, [(key, rcu, wcu)]) of one round trip of a trace: the
    minimum DynamoDB bills for each item it names (1 unit per item, 2 in a
    transaction); the items tenant-wide keys hold are small (≤ 1 KB)."""
    operation, _, rest = line.partition(" ")
    keys = rest.split()
    if operation in ("TransactWriteItems",):
        return operation, [(k, 0, 2) for k in keys]
    if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
        return operation, [(k, 0, 1) for k in keys]
    if operation == "TransactGetItems":
        return operation, [(k, 2, 0) for k in keys]
    if operation in ("GetItem", "BatchGetItem", "Query"):
        return operation, [(k, 1, 0) for k in keys]
    return operation, [(k, 0, 0) for k in keys]


def _shard_count_in_code():
    """A shard count the shared crate declares (`const …SHARDS…: … = N`), if one."""
    found = set()
    for path in (ROOT / "shared" / "src").rglob("*.rs"):
        found.update(int(n) for n in re.findall(r"const \w*SHARDS: \w+ = (\d+)", path.read_text(errors="replace")))
    return found.pop() if len(found) == 1 else None


def key_classes(dynamo):
    """Each partition key seen, classed: shared (tenant-wide) when two users'
    lives name it or its shard, per entity otherwise; a key ending in
    `#NN` is one shard of its class, whose count the shared crate declares
    or, failing that, the suffix's width allows (two digits: 100)."""
    lives = dynamo.get("traces_by_life") or {}
    seen, widths = {}, {}
    for traces in lives.values():
        for life, calls in enumerate(traces):
            for call in calls:
                for line in call:
                    for key, _, _ in _trace_units(line)[1]:
                        match = SHARD_SUFFIX.match(key)
                        base = match.group(1) + "#{shard}" if match else key
                        if match:
                            widths[base] = max(widths.get(base, 0), len(match.group(2)))
                        seen.setdefault(base, set()).add(life)
    shards_in_code = _shard_count_in_code()
    return {base: {"shared": len(in_lives) >= 2 and not PER_ADDRESS.match(base),
                   "shards": (shards_in_code or 10 ** widths[base]) if base in widths else 1}
            for base, in_lives in seen.items()}


def _class_of(key, classes):
    match = SHARD_SUFFIX.match(key)
    if match and match.group(1) + "#{shard}" in classes:
        return match.group(1) + "#{shard}"
    return key


def _display(key, tenant):
    """A key class for the table: the tenant's id as {tenant}, ids as …"""
    text = key.replace(f"#{tenant}#", "#{tenant}#")
    text = re.sub(rf"#{re.escape(tenant)}$", "#{tenant}", text)
    return text


def capacity(directory, cpu, dynamo, memory, duration_ms, lambda_load=None):
    """The model's figures (also written to capacity.json)."""
    def calls_of(function):
        if function == "login(plain)":
            return dynamo["plain_login"]
        calls = dynamo["endpoints"].get(function, [])
        return max(calls, key=lambda c: c["round_trips"]) if calls else None

    classes = key_classes(dynamo)
    tenant = _guess_tenant(classes)
    scenarios = {
        "2FA by SMS": {"sign-ups": SIGN_UP, "logins": LOGIN_SMS, "refreshes": REFRESH},
        "no 2FA": {"sign-ups": SIGN_UP, "logins": LOGIN_PLAIN, "refreshes": REFRESH},
    }
    # SPEC §15: the writes one sign-up puts on any one tenant-wide key.
    signup_writes = {}
    for function in SIGN_UP:
        calls = calls_of(function)
        for line in (calls or {}).get("trace", []):
            operation, items = _trace_units(line)
            for key, _, wcu in items:
                cls = _class_of(key, classes)
                info = classes.get(cls, {"shared": False, "shards": 1})
                if wcu and info["shared"]:
                    signup_writes[cls] = signup_writes.get(cls, 0.0) + 1 / info["shards"]
    out = {"date": datetime.date.today().isoformat(),
           "signup_writes_per_shared_key": {_display(k, tenant): v for k, v in signup_writes.items()}, "cpu_lives": cpu.get("lives"), "rates_per_s": SCALE, "quotas": QUOTA, "quotas_as_of": QUOTAS_DATE, "prices": PRICE,
           "sign_up": SIGN_UP, "login_sms": LOGIN_SMS, "login_plain": LOGIN_PLAIN, "scenarios": {}}
    for name, flows in scenarios.items():
        per_key = {}  # class -> [rcu/s, wcu/s]
        per_function = {}
        for flow, functions in flows.items():
            rate = SCALE[flow]
            for function in functions:
                calls = calls_of(function)
                if not calls:
                    continue
                entry = per_function.setdefault(function, {"rate": 0.0, "rcu": calls["read_units"],
                                                           "wcu": calls["write_units"],
                                                           "round_trips": calls["round_trips"]})
                entry["rate"] += rate
                for line in calls.get("trace", []):
                    for key, rcu, wcu in _trace_units(line)[1]:
                        cls = _class_of(key, classes)
                        info = classes.get(cls, {"shared": False, "shards": 1})
                        if not info["shared"]:
                            continue
                        load = per_key.setdefault(cls, {"rcu": 0.0, "wcu": 0.0, "shards": info["shards"],
                                                        "functions": set()})
                        load["rcu"] += rate * rcu / info["shards"]
                        load["wcu"] += rate * wcu / info["shards"]
                        load["functions"].add(function.replace("(plain)", ""))
        # Per-entity keys: the most units one call puts on one key (a user's own items).
        per_entity = 0.0
        for function in per_function:
            calls = calls_of(function)
            counts = {}
            for line in calls.get("trace", []):
                for key, rcu, wcu in _trace_units(line)[1]:
                    if not classes.get(_class_of(key, classes), {}).get("shared"):
                        counts[key] = counts.get(key, 0) + wcu
            per_entity = max([per_entity, *counts.values()])
        keys = sorted(({"class": _display(k, tenant), **{x: v[x] for x in ("rcu", "wcu", "shards")},
                        "functions": sorted(v["functions"])} for k, v in per_key.items()),
                      key=lambda k: -max(k["wcu"] / PARTITION_WCU, k["rcu"] / PARTITION_RCU))
        concurrency = {}
        for function, entry in per_function.items():
            base = function.replace("(plain)", "")
            ms = duration_ms(base, calls_of(function))
            # The load test logs in with 2FA only: no local figure for the plain login.
            measured = ((lambda_load or {}).get("endpoints", {}).get(function) or {}).get("p50_ms")
            concurrency[function] = {"rate": entry["rate"], "duration_ms": ms, "concurrency": entry["rate"] * ms / 1000,
                                     "load_test_p50_ms": measured, "memory_mb": memory.get(base, 128)}
        requests = sum(e["rate"] for e in per_function.values())
        rcu = sum(e["rate"] * e["rcu"] for e in per_function.values())
        wcu = sum(e["rate"] * e["wcu"] for e in per_function.values())
        total_concurrency = sum(c["concurrency"] for c in concurrency.values())
        emails = SCALE["sign-ups"]  # the sign-up's e-mail code
        sms = SCALE["sign-ups"] + (SCALE["logins"] if name == "2FA by SMS" else 0)
        month = SECONDS_PER_MONTH
        lambda_cost = sum(c["rate"] * month * (c["memory_mb"] / 1024 * c["duration_ms"] / 1000 * PRICE["lambda_gb_s"]
                                               + PRICE["lambda_request"]) for c in concurrency.values())
        ddb_cost = (rcu * PRICE["ddb_read_unit"] + wcu * PRICE["ddb_write_unit"]) * month
        monthly_requests = requests * month
        api_cost = (min(monthly_requests, HTTP_API_TIER[0]) * PRICE["http_api_request"]
                    + max(0.0, monthly_requests - HTTP_API_TIER[0]) * HTTP_API_TIER[1])
        signups_month = SCALE["sign-ups"] * month
        out["scenarios"][name] = {
            "busiest_keys": keys,
            "per_entity_wcu_per_call": per_entity,
            "functions": concurrency,
            "requests_per_s": requests,
            "table_rcu_per_s": rcu,
            "table_wcu_per_s": wcu,
            "lambda_concurrency": total_concurrency,
            "emails_per_s": emails,
            "sms_per_s": sms,
            "month": {
                "requests": monthly_requests,
                "lambda": lambda_cost,
                "dynamodb": ddb_cost,
                "http_api": api_cost,
                "ses": emails * month * PRICE["ses_email"],
                "sms": sms * month * PRICE["sms"],
                "cognito_lite_for_new_users": cognito_lite(signups_month),
                "cognito_essentials_for_new_users": max(0, signups_month - 10_000) * COGNITO_ESSENTIALS,
            },
        }
    (directory / "capacity.json").write_text(json.dumps(out, indent=2, default=sorted) + "\n")
    return out


def _guess_tenant(classes):
    """The tenant id of the bench (the id in TENANT#{id})."""
    for key in classes:
        if key.startswith("TENANT#"):
            return key.split("#", 2)[1]
    return "bench"


CAPACITY_HEADING = "## 8. Capacity of one tenant"


def capacity_section(model, template_limits):
    out = [CAPACITY_HEADING, ""]
    out.append(f"Rendered {model['date']} (`report.py --only capacity`) from `registrar-bench cpu` "
               f"({model['cpu_lives']} lives) and `registrar-bench dynamodb` figures of that day; the tables of sections "
               "1–7 come from the last full `make bench` and may differ from them.")
    out.append("")
    r = SCALE
    sms_s, plain_s = model["scenarios"]["2FA by SMS"], model["scenarios"]["no 2FA"]
    out.append(f"One tenant at {r['sign-ups']:,} sign-ups/s, {r['logins']:,} logins/s and {r['refreshes']:,} "
               "refreshes/s (SPEC §15), in two variants: every login with 2FA by SMS (the login's challenge, then "
               "`verify-mfa`: two calls), or none (`login` answers tokens). A sign-up is "
               f"{' + '.join(SIGN_UP)} (a phone is required by default). Pure arithmetic "
               "(`scripts/bench/report.py`, inputs and results in `target/bench/capacity.json`) from the measured "
               "calls of section 2: each call's read and write units, and the partition keys of each of its "
               "round trips (the SDK interceptor's trace). A key is *tenant-wide* when the bench's users' "
               "separate lives both name it; its load is the rate × the units a call puts on it (1 per item, 2 in "
               "a transaction: the minimum, as those items are small), divided by its shard count when the key "
               "ends in a shard number (the count the shared crate declares, or the suffix's width allows). "
               f"Quotas: AWS's published defaults as read on {QUOTAS_DATE}, not checked against an account; "
               "Cognito's UserCreation quota is as AWS's developer guide states it, its UserAuthentication "
               "figure as published, not verified here. Duration per call: the model of section 2 "
               "(CPU scaled to the memory's share of a vCPU + 6 ms per DynamoDB round trip).")
    out.append("")
    writes = model["signup_writes_per_shared_key"]
    if writes:
        key, most = max(writes.items(), key=lambda kv: kv[1])
        out.append(f"SPEC §15's target, a sign-up puts ≤ 0.1 writes on any one tenant-wide key: **{most:g}** on `{key}` "
                   f"({'met' if most <= 0.1 else 'missed'}; every such key: "
                   + ", ".join(f"`{k}` {v:g}" for k, v in sorted(writes.items(), key=lambda kv: -kv[1])) + ").")
        out.append("")
    out.append("| | limit (default) | 2FA by SMS | no 2FA | to raise |")
    out.append("|---|---|---|---|---|")

    def pct(value, limit):
        return f"{value:,.0f} ({value / limit * 100:,.0f}%)"

    def busiest(s, unit, limit):
        keys = s["busiest_keys"]
        if not keys:
            return "none", 0.0
        top = max(keys, key=lambda k: k[unit])
        return f"{pct(top[unit], limit)} `{top['class']}`", top[unit]

    for unit, limit, label in (("wcu", PARTITION_WCU, "write units/s on the busiest tenant-wide key"),
                               ("rcu", PARTITION_RCU, "read units/s on the busiest tenant-wide key")):
        a, va = busiest(sms_s, unit, limit)
        b, vb = busiest(plain_s, unit, limit)
        over = "**over: shard it**" if max(va, vb) > limit else "no"
        out.append(f"| {label} | {limit:,} per partition | {a} | {b} | {over} |")
    per_entity = max(sms_s["per_entity_wcu_per_call"], plain_s["per_entity_wcu_per_call"])
    out.append(f"| one user's own keys (user, locks, session, codes) and per-address counters | "
               f"{PARTITION_WCU:,} WCU per partition | "
               f"≤ {per_entity:g} write units per call | same | no (one user's requests) |")
    for s_key, quota_key, label in (("table_wcu_per_s", "ddb_table_wcu", "table write units/s (on demand)"),
                                    ("table_rcu_per_s", "ddb_table_rcu", "table read units/s (on demand)"),
                                    ("requests_per_s", "http_api_rps", "API Gateway requests/s"),
                                    ("lambda_concurrency", "lambda_concurrency", "Lambda concurrency"),
                                    ("emails_per_s", "ses_per_s", "SES e-mails/s"),
                                    ("sms_per_s", "sns_sms_per_s",
                                     f"SNS SMS/s (and a ${QUOTA['sns_sms_spend_usd']:.2f} monthly SMS spend limit)")):
        limit = QUOTA[quota_key]
        a, b = sms_s[s_key], plain_s[s_key]
        out.append(f"| {label} | {limit:,} | {pct(a, limit)} | {pct(b, limit)} | "
                   f"{'**yes**, to ≥ ' + format(math.ceil(max(a, b)), ',') if max(a, b) > limit else 'no'} |")
    worst_fn = max(sms_s["functions"].items(), key=lambda kv: kv[1]["concurrency"])
    ramp = math.ceil(worst_fn[1]["concurrency"] / QUOTA["lambda_scaling_per_10s"]) * 10
    out.append(f"| Lambda scaling | +{QUOTA['lambda_scaling_per_10s']:,} per function per 10 s | "
               f"{worst_fn[0]} needs {worst_fn[1]['concurrency']:,.0f}: {ramp:,} s from cold | | not adjustable: "
               "warm up (provisioned concurrency) before such a peak |")
    rate_limit, burst = template_limits
    if rate_limit:
        top_route = max(r.values())
        out.append(f"| the template's route throttle (`ApiRateLimit`, `ApiBurstLimit`) | {rate_limit:,}/s, burst "
                   f"{burst:,} per route | refresh {top_route:,}/s | same | **yes**, the stack's parameters |")
    out.append(f"| Cognito UserCreation (sign-up + confirm: 2 calls) | {QUOTA['cognito_user_creation_rps']:,} | "
               f"{pct(2 * r['sign-ups'], QUOTA['cognito_user_creation_rps'])} | same | **yes** (buy capacity) |")
    auth = r["logins"] + r["refreshes"]
    out.append(f"| Cognito UserAuthentication (InitiateAuth: logins + refreshes) | "
               f"{QUOTA['cognito_user_authentication_rps']:,} | {pct(auth, QUOTA['cognito_user_authentication_rps'])} "
               "| same | **yes** (buy capacity) |")
    for label, key in (("Lambda (requests + GB-s at the template's memory)", "lambda"),
                       ("DynamoDB on demand (measured units per call)", "dynamodb"),
                       ("API Gateway HTTP API", "http_api"), ("SES e-mail", "ses"), ("SMS (SNS, $" f"{PRICE['sms']})", "sms")):
        out.append(f"| month (30 days at these rates): {label} | | ${sms_s['month'][key]:,.0f} | "
                   f"${plain_s['month'][key]:,.0f} | |")
    own = lambda s: sum(s["month"][k] for k in ("lambda", "dynamodb", "http_api", "ses"))
    out.append(f"| **month: Registrar without SMS** | | **${own(sms_s):,.0f}** | **${own(plain_s):,.0f}** | |")
    out.append(f"| month: Cognito Lite for the month's new users alone ({r['sign-ups'] * SECONDS_PER_MONTH / 1e9:,.1f} B) "
               f"| | ${sms_s['month']['cognito_lite_for_new_users']:,.0f} | same | |")
    out.append("")
    out.append("Lambda concurrency per function (rate × estimated duration; the load test's p50 on moto beside it):")
    out.append("")
    out.append("| function | memory MB | rate /s | est. duration ms | concurrency | local p50 ms (section 9) |")
    out.append("|---|---|---|---|---|---|")
    merged = {**plain_s["functions"], **sms_s["functions"]}
    names = {"login": "login (2FA challenge, SMS sent)", "login(plain)": "login (no 2FA: tokens)"}
    for f, c in sorted(merged.items(), key=lambda kv: -kv[1]["concurrency"]):
        f = names.get(f, f)
        p50 = f"{c['load_test_p50_ms']:.1f}" if c["load_test_p50_ms"] else ""
        out.append(f"| {f} | {c['memory_mb']} | {c['rate']:,.0f} | {c['duration_ms']:g} | {c['concurrency']:,.0f} | {p50} |")
    out.append("")
    out.append("Tenant-wide keys, units per second on one key (after dividing by its shards), against 1,000 write "
               "and 3,000 read units per partition:")
    out.append("")
    out.append("| key class | shards | 2FA by SMS: write / read | no 2FA: write / read | written or read by |")
    out.append("|---|---|---|---|---|")
    by_class = {}
    for scenario, s in (("sms", sms_s), ("plain", plain_s)):
        for k in s["busiest_keys"]:
            entry = by_class.setdefault(k["class"], {"shards": k["shards"], "functions": set()})
            entry[scenario] = k
            entry["functions"].update(k["functions"])

    def units(k):
        if not k:
            return "0 / 0"
        mark = "**" if k["wcu"] > PARTITION_WCU or k["rcu"] > PARTITION_RCU else ""
        return f"{mark}{k['wcu']:,.0f} / {k['rcu']:,.0f}{mark}"

    for cls, e in sorted(by_class.items(), key=lambda kv: -max(
            max(k["wcu"] / PARTITION_WCU, k["rcu"] / PARTITION_RCU) for k in (kv[1].get("sms"), kv[1].get("plain")) if k)):
        out.append(f"| `{cls}` | {e['shards']} | {units(e.get('sms'))} | {units(e.get('plain'))} | "
                   f"{', '.join(sorted(e['functions']))} |")
    out.append("")
    hot = [k for k in sms_s["busiest_keys"] + plain_s["busiest_keys"]
           if k["wcu"] > PARTITION_WCU or k["rcu"] > PARTITION_RCU]
    out.append(
        f"At this load a tenant sends {sms_s['requests_per_s']:,.0f} requests/s ({plain_s['requests_per_s']:,.0f} without 2FA) "
        f"through {sms_s['lambda_concurrency']:,.0f} concurrent Lambda executions; "
        + (f"{len({k['class'] for k in hot})} tenant-wide key class(es) exceed a partition's limit "
           f"({', '.join(sorted({'`' + k['class'] + '`' for k in hot}))}), so DynamoDB would throttle them whatever the "
           "table's capacity, until they are sharded further. " if hot else
           "no tenant-wide key reaches a partition's limit. ")
        + "Every account-level default above marked **yes** must be raised first (API Gateway, Lambda concurrency, "
          "DynamoDB's table maximum, SES and SMS rates); all are adjustable quotas except Lambda's scaling rate. "
        + f"Registrar's own month at this load costs ${own(sms_s):,.0f} (${own(plain_s):,.0f} without 2FA), SMS "
          f"${sms_s['month']['sms']:,.0f} on top; Cognito would first need its default quotas raised "
          f"{2 * r['sign-ups'] / QUOTA['cognito_user_creation_rps']:,.0f}× (sign-ups) and "
          f"{auth / QUOTA['cognito_user_authentication_rps']:,.0f}× (authentication), and bills per monthly active user, "
          "so the month's new users alone would cost the Lite row's figure.")
    out.append("")
    return out


LAMBDA_LOAD_HEADING = "## 9. Load on the Lambda path"


def lambda_load_section(figures):
    out = [LAMBDA_LOAD_HEADING, ""]
    if figures.get("date"):
        out.append(f"Run on {figures['date']}.")
        out.append("")
    out.append(
        "`scripts/bench/lambda_load.py`: the hot functions' release binaries, each under the Lambda Runtime API "
        "emulator of the cold-start benchmark, with the template's environment and memory size, against DynamoDB "
        f"on moto; {figures['processes_per_function']} processes per function, each one invocation at a time as a "
        f"Lambda instance runs; {figures['users']} users driven through sign-up (the e-mail code, then the phone and its "
        f"code), {figures['repeat']} profile reads and a chain of {figures['repeat']} refreshes each, then a login with 2FA "
        "by SMS and its answer; every answer checked against the status the flow expects. Each process's first "
        "(cold) invocation is made before the clock starts. Latency: the emulator's time from handing over an "
        "event to its answer.")
    out.append("")
    out.append("| endpoint | processes | invocations | throughput /s | p50 ms | p99 ms | errors |")
    out.append("|---|---|---|---|---|---|---|")
    for f, r in figures["endpoints"].items():
        p50 = f"{r['p50_ms']:.1f}" if r["p50_ms"] is not None else ""
        p99 = f"{r['p99_ms']:.1f}" if r["p99_ms"] is not None else ""
        out.append(f"| {f} | {r['processes']} | {r['invocations']:,} | {r['throughput_per_s'] or 0:,.1f} | {p50} | {p99} | {r['errors']} |")
    out.append("")
    out.append(
        f"moto is one Python process answering one request at a time, so these throughputs are moto's, not "
        f"the functions': every call makes 1–11 round trips to it. p50/p99 are local ({figures.get('cores', '?')} cores "
        "shared with the emulator, moto and other work, the functions not capped to their memory's share of a "
        "vCPU), not AWS's; the argon2 endpoints (start-registration, login) are bound by the hash. Worse, moto "
        "makes a deep copy of the whole table for every item of a `TransactWriteItems` (its rollback, "
        "`moto/dynamodb/models/__init__.py`), so the endpoints that write in a transaction (verify-registration-phone: "
        "about ten items; refresh and verify-mfa: three to five) slow down with the table's size and each other's "
        "copies: their seconds here are moto's copying, not the functions' work. On DynamoDB a transaction is one "
        "round trip of ~10 ms whatever the table holds; section 8 models the deployed duration from CPU and round "
        "trips instead, and shows the local p50 only beside it.")
    out.append("")
    return out


def template_route_limits():
    text = (ROOT / "template.yaml").read_text()
    rate = re.search(r"ApiRateLimit:\n(?:\s+.*\n)*?\s+Default: (\d+)", text)
    burst = re.search(r"ApiBurstLimit:\n(?:\s+.*\n)*?\s+Default: (\d+)", text)
    return (int(rate.group(1)) if rate else None, int(burst.group(1)) if burst else None)


def replace_section(out, heading, block):
    """Replaces (or appends) the section under `heading` in the report."""
    text = pathlib.Path(out).read_text(encoding="utf-8")
    if heading in text:
        before, rest = text.split(heading, 1)
        after = rest[rest.index("\n## "):] if "\n## " in rest else ""
        text = before + block + ("\n" + after.lstrip("\n") if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    pathlib.Path(out).write_text(text.rstrip("\n") + "\n", encoding="utf-8")


ENDPOINTS_HEADING = "## 2. Per endpoint: CPU and DynamoDB"


def endpoints_section(cpu, dynamo, memory, rendered_alone=False):
    """Section 2: CPU, round trips and units per function (its worst call of the life)."""
    lines = []
    w = lines.append
    w(ENDPOINTS_HEADING)
    w("")
    if rendered_alone:
        w(f"Rendered {datetime.date.today().isoformat()} (`report.py --only endpoints`) from that day's "
          "`registrar-bench cpu` and `registrar-bench dynamodb`; the other sections may be older.")
        w("")
    w("CPU per request on the embedded store (process CPU time, all threads; messages discarded), over")
    w(f"{cpu['lives']} users' whole lives through every route. DynamoDB round trips and capacity units through an SDK")
    w("interceptor against moto, on a warm instance (API key cached); capacity by DynamoDB's rules from the item")
    w("sizes seen (strongly consistent reads 1 unit per 4 KB, writes 1 per KB, both ×2 in transactions).")
    cold_cache = dynamo["cold_api_key_cache"]
    w(f"A cold key cache (an instance's first keyed request, or the first after a minute) adds {cold_cache['round_trips']} round trips")
    w(f"({'+'.join(f'{n} {op}' for op, n in cold_cache['operations'].items())}, {cold_cache['read_units']:.0f} read units).")
    w("")
    w("| function | argon2 | CPU µs (median) | p90 | round trips | operations | RCU | WCU | memory MB | est. duration ms |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for f in sorted(cpu["endpoints"]):
        e = cpu["endpoints"][f]
        calls = worst_call(dynamo, f)
        mem, duration = memory.get(f, 128), est_duration_ms(cpu, dynamo, memory, f)
        ops = ", ".join(f"{n}×{op}" for op, n in calls["operations"].items()) if calls else ""
        w(f"| {f} | {'yes' if e['hashes'] else ''} | {fmt_us(e['cpu']['median_us'])} | {fmt_us(e['cpu']['p90_us'])} | "
          f"{calls['round_trips'] if calls else 0} | {ops} | {calls['read_units'] if calls else 0:g} | "
          f"{calls['write_units'] if calls else 0:g} | {mem} | {duration} |")
    w("")
    if cpu.get("not_covered"):
        w(f"Not in the benchmarked life (no figures): {', '.join(cpu['not_covered'])}.")
        w("")
    w(f"Estimated duration = CPU × max(1, {FULL_VCPU_MB} MB ÷ memory) + round trips × {DYNAMODB_LATENCY_MS:g} ms (assumed")
    w("in-region DynamoDB latency). Login is the worst call of the life (2FA: a code is sent).")
    w("")
    return lines


def main(directory, out):
    directory = pathlib.Path(directory)
    cpu = load(directory, "cpu.json")
    dynamo = load(directory, "dynamodb.json")
    cold = load(directory, "coldstart.json") or {}
    build = load(directory, "build.json") or {}
    load_runs = [json.loads(line) for line in (directory / "load.jsonl").read_text().splitlines() if line.strip()]
    memory = memory_by_function()
    functions = sorted(cpu["endpoints"])
    sizes = {f: (ROOT / "target" / "release" / f).stat().st_size for f in functions
             if (ROOT / "target" / "release" / f).exists()}
    senders = senders_by_function()

    # Argon2 and login.
    reference_ms = cpu["argon2_reference"]["printed_mean_us"] / 1000
    login_wall_ms = cpu["login"]["wall"]["median_us"] / 1000
    hash_ms = cpu["argon2_in_process"]["cpu"]["median_us"] / 1000
    ratio = login_wall_ms / reference_ms
    non_hash_us = cpu["login_minus_hash_cpu_us"]
    sign_us = cpu["rs256_sign"]["cpu"]["median_us"]
    openssl = load(directory, "openssl.json")
    sign_floor_us = openssl["rsa2048_sign_us"]
    sign_ratio = sign_us / sign_floor_us

    # Round trips (warm key cache) per function: the worst call of the life.
    def worst(function):
        return worst_call(dynamo, function)

    # Per-request cost at the function's memory.
    def estimate(function):
        mem = memory.get(function, 128)
        calls = worst(function)
        duration = est_duration_ms(cpu, dynamo, memory, function)
        lambda_cost = mem / 1024 * duration / 1000 * PRICE["lambda_gb_s"] + PRICE["lambda_request"]
        ddb = (calls["read_units"] * PRICE["ddb_read_unit"] + calls["write_units"] * PRICE["ddb_write_unit"]) if calls else 0
        return mem, duration, lambda_cost, ddb

    lines = []
    w = lines.append
    today = datetime.date.today().isoformat()
    w("# Benchmarks")
    w("")
    w(f"Written by `make bench` (`scripts/bench.sh`) on {today}. Machine: {machine()}.")
    w("Figures are medians unless marked. Raw data: `target/bench/*.json` after a run.")
    w("All functions run in-process through `shared::http::handle_route`, the code each Lambda binary runs.")
    w("")

    # Headline.
    completion = worst("verify-registration-phone")
    refresh = worst("refresh")
    over = [f for f in functions if not cpu["endpoints"][f]["hashes"] and cpu["endpoints"][f]["cpu"]["median_us"] > 200]
    biggest = max(sizes.values()) / 1e6 if sizes else float("nan")
    w("## Targets")
    w("")
    w("| Target | Measured | |")
    w("|---|---|---|")
    w(f"| login ÷ reference argon2 ≤ 1.10 | {ratio:.2f} ({login_wall_ms:.1f} ms ÷ {reference_ms:.1f} ms) | {'met' if ratio <= 1.10 else 'missed'} |")
    w(f"| RS256 signature ÷ `openssl speed rsa2048` ≤ 1.10 | {sign_ratio:.2f} ({sign_us:,.0f} µs ÷ {sign_floor_us:,.0f} µs) | {'met' if sign_ratio <= 1.10 else 'missed'} |")
    w(f"| non-hashing CPU of a login ≤ 200 µs | {non_hash_us:,.0f} µs | {'met' if non_hash_us <= 200 else f'missed by {non_hash_us - 200:,.0f} µs: one RS256 signature costs {sign_us:,.0f} µs'} |")
    why = {"refresh": "signs an RS256 token", "verify-mfa": "signs an RS256 token",
           "verify-registration-phone": "signs an RS256 token", "list-reference": "writes all 249 countries"}
    missed = "; ".join(f"{f} {cpu['endpoints'][f]['cpu']['median_us']:,.0f} µs ({why.get(f, 'see the table')})" for f in over)
    plain = len(functions) - sum(cpu["endpoints"][f]["hashes"] for f in functions)
    w(f"| non-hashing endpoints ≤ 200 µs CPU | {plain - len(over)} of {plain} | {'met' if not over else 'missed by ' + missed} |")
    w(f"| sign-up completion ≤ 2 DynamoDB round trips | {completion['round_trips']} | {'met' if completion['round_trips'] <= 2 else 'missed'} |")
    w(f"| refresh ≤ 2 DynamoDB round trips | {refresh['round_trips']} | {'met' if refresh['round_trips'] <= 2 else 'missed'} |")
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in load_runs)
    w(f"| load without errors | {errors} errors in {sum(r['requests'] for r in load_runs):,} requests | {'met' if errors == 0 else 'missed'} |")
    plain_sizes = {f: b for f, b in sizes.items() if not cpu["endpoints"][f]["hashes"] and f not in senders}
    largest_plain = max(plain_sizes.values()) / 1e6 if plain_sizes else float("nan")
    w(f"| binary ≤ 8 MB for every function that neither hashes nor sends | {largest_plain:.1f} MB at most ({len(plain_sizes)} functions; x86_64) | {'met' if largest_plain <= 8 else f'missed by {largest_plain - 8:.1f} MB (see Lambda shape)'} |")
    if cold:
        slowest = max(cold, key=lambda f: cold[f]["init_ms"])
        w(f"| init ≤ 15 ms under the Runtime API emulator | {cold[slowest]['init_ms']:.1f} ms at most ({slowest}) | {'met' if cold[slowest]['init_ms'] <= 15 else 'missed'} |")
    w("")

    w("## 1. Argon2 against its floor")
    w("")
    w("argon2id at m = 19 MiB, t = 2, p = 1 (OWASP), in the same run:")
    w("")
    w("| | median | p90 |")
    w("|---|---|---|")
    ref = cpu["argon2_reference"]
    w(f"| Debian's `argon2` (reference C), its own timing line (mean of {ref['printed']['n']}) | {reference_ms:.1f} ms | |")
    w(f"| Debian's `argon2`, whole process | {ref['process_wall']['median_us'] / 1000:.1f} ms | {ref['process_wall']['p90_us'] / 1000:.1f} ms |")
    w(f"| Registrar's hash (RustCrypto `argon2`), CPU | {hash_ms:.1f} ms | {cpu['argon2_in_process']['cpu']['p90_us'] / 1000:.1f} ms |")
    w(f"| one login end to end, embedded store, wall | {login_wall_ms:.1f} ms | {cpu['login']['wall']['p90_us'] / 1000:.1f} ms |")
    w(f"| one login end to end, CPU | {cpu['login']['cpu']['median_us'] / 1000:.1f} ms | {cpu['login']['cpu']['p90_us'] / 1000:.1f} ms |")
    w(f"| one RS256 signature (aws-lc-rs, one parsed key per instance), CPU | {sign_us:,.0f} µs | {cpu['rs256_sign']['cpu']['p90_us']:,.0f} µs |")
    w(f"| one RSA-2048 signature, `openssl speed` ({openssl['version']}), its own figure | {sign_floor_us:,.0f} µs | |")
    w("")
    w(f"Ratio login ÷ reference hash: **{ratio:.2f}** (target ≤ 1.10). The reference allocates and faults in")
    w("its 19 MiB in every run (its own timing line includes that); Registrar keeps argon2's memory between")
    w("hashes, so a warm instance pays neither the allocation nor the page faults, which are dear on this VM.")
    w(f"Everything in a login that is not hashing: **{non_hash_us:,.0f} µs** CPU (the median of 200 paired")
    w("differences, each login's CPU minus that of the hash made just before it: argon2's own CPU time spreads")
    w("over milliseconds on this VM, so the figure moves by a few hundred µs between runs; a difference of the")
    w("two medians once came out negative), of which")
    w(f"{sign_us:,.0f} µs is the access token's RS256 signature. The target of 200 µs is missed by that signature:")
    w("API Gateway's JWT authorizer, which downstream APIs use to check Registrar's tokens, accepts only RSA")
    w("(an Ed25519 signature would take ~20 µs). Moving JWT signing from RustCrypto's `rsa` to aws-lc-rs (already")
    w("linked for TLS) halved it. jsonwebtoken's aws-lc backend then still parsed and checked the RSA key from DER")
    w("at every signature; Registrar now keeps one parsed key pair per warm instance and signs with it directly")
    w(f"(jsonwebtoken only verifies), so a signature costs {sign_ratio:.2f}× OpenSSL's own `speed` figure on this")
    w("machine. The rest of the login (lookup, lockout counters, session, audit) is what remains.")
    w("")

    lines.extend(endpoints_section(cpu, dynamo, memory))

    w("## 3. Load")
    w("")
    w("`wrk` against the local API (`target/release/registrar`, in-memory store, outbox on disk) on the same")
    w("2-core machine as wrk itself; every answer had to be 2xx. Refresh: each connection follows its own")
    w("chain of rotated tokens.")
    w("")
    w("| endpoint | connections | requests | throughput /s | p50 ms | p90 ms | p99 ms | max ms | errors |")
    w("|---|---|---|---|---|---|---|---|---|")
    for r in load_runs:
        w(f"| {r['mode']} | {r.get('connections', '')} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
          f"{r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['non_2xx'] + r['socket_errors']} |")
    w("")
    w("Sign-up start and login are bound by argon2 (two cores → about two hashes at a time); refresh by its")
    w("RS256 signature.")
    w("")

    w("## 4. Lambda shape")
    w("")
    if sizes:
        w(f"Release binaries (x86_64, this machine; opt-level 3, no cross-crate LTO, codegen-units 1, strip, panic abort): "
          f"{min(sizes.values()) / 1e6:.1f}–{max(sizes.values()) / 1e6:.1f} MB each. The release build of the {len(sizes)} "
          f"functions took {build.get('release_build_s', '?')} s in this run (seconds when `target/` is warm; "
          f"7 min 56 s from clean on this machine, 2026-11-26).")
    w("Each binary names its endpoint's type (`lambda::run(endpoints::GetMe)`), so it links that handler alone,")
    w("and the SES and SNS clients only where the endpoint sends (`Needs` in `shared/src/http/endpoints.rs`,")
    w("proven by `tests/deploy/iam.rs`, which builds each function's app with its needs).")
    w("")
    w("The ≤ 8 MB target is missed: every function that reads the table carries what any AWS call needs. What")
    w("fills `health`, the smallest (symbol sizes of an unstripped build, 2026-11-27): aws-lc (TLS and RSA,")
    w("~2.2 MB with its curves; its AES-GCM code for AVX-512 alone is 0.7 MB), the SDK runtime, aws-config and")
    w("the DynamoDB, Secrets Manager and STS clients (~1.6 MB), HTTP/2 (`h2`, 0.5 MB: the SDK's HTTPS client")
    w("always links hyper's HTTP/2), rustls and webpki (0.4 MB), hyper (0.35 MB), a regex engine (0.25 MB, from")
    w("`phonenumber`), `encoding_rs` (0.17 MB, from lambda_http), jsonwebtoken (0.14 MB), generic code of `core`")
    w("(0.9 MB), and the data tables. Per-function handler sets took the login from the same size as the rest")
    w("to the largest (it hashes, sends e-mail and SMS); a function that sends SMS is ~3.5 MB larger than one")
    w("that sends only e-mail (SNS speaks the XML query protocol: its client, XML and query serializers); the")
    w("regex engine of `EnvFilter` is gone (logs are filtered with `Targets`).")
    w("")
    w("Tried on 2026-11-27 and not kept: opt-level \"s\" for every crate but argon2, blake2 and aws-lc (which")
    w("stay at 3; without cross-crate LTO the overrides hold) took `health` from 11.7 to 11.0 MB and `login`")
    w("from 15.6 to 14.5 MB: 6–7 %, far from 8 MB, for slower serde and HTTP code on every request. What is")
    w("left would mean leaving the AWS SDK (a DynamoDB client of our own over HTTP/1.1) or aws-lc (ring signs")
    w("RSA slower, against the signing target above); neither is worth it while Lambda reads a package once")
    w("per cold start. The deployed functions no longer run aws-config's provider chain (see the cold starts),")
    w("but its code stays linked for runs without credentials in the environment.")
    w("")
    w("| function | size MB | hashes | sends |")
    w("|---|---|---|---|")
    for f in sorted(sizes):
        w(f"| {f} | {sizes[f] / 1e6:.1f} | {'yes' if cpu['endpoints'][f]['hashes'] else ''} | {'yes' if f in senders else ''} |")
    w("")
    w("### Release profile")
    w("")
    w("Measured while choosing (2026-11-26, this machine, `health` binary and registrar-bench; argon2 relative to")
    w("the reference `argon2` in the same run, because the machine's speed drifted between runs; those rows")
    w("predate the reuse of argon2's memory, so their hashes paid page faults too):")
    w("")
    w("| profile | binary | argon2 ÷ reference | RS256 sign | link per function |")
    w("|---|---|---|---|---|")
    w("| opt-level 3, thin LTO, SDK defaults | 20.6 MB | 0.72 | 666 µs | 1–2 min |")
    w("| opt-level 3, thin LTO, SDK trimmed | 16.9 MB | | | 1–2 min |")
    w("| opt-level 3, fat LTO | 15.4 MB | 0.85 | 705 µs | 2–4 min |")
    w("| opt-level \"s\", fat LTO (argon2, blake2, aws-lc at 3) | 12.3 MB | 0.94 | 680 µs | 2–4 min |")
    w(f"| opt-level 3, no cross-crate LTO, SDK trimmed (**chosen**, this run) | {biggest:.1f} MB | {hash_ms / reference_ms:.2f} | {sign_us:,.0f} µs | seconds |")
    w("")
    w("Fat LTO and opt-level \"s\" slow argon2 (LTO compiles everything at the root's level, so per-package")
    w("overrides are lost), and argon2 is most of the CPU bill and of a login's latency. Thin LTO saved 1 MB")
    w("but made the 28 links take half an hour on 2 cores (`sam build` links each function). Size matters")
    w("little to Lambda (a cold start reads the package once), so the profile without cross-crate LTO wins.")
    w("")
    if cold:
        w("### Cold start, warm answer, peak memory")
        w("")
        w("Each release binary started by a Lambda Runtime API emulator (`scripts/bench/coldstart.py`) with")
        w("DynamoDB and Secrets Manager on moto, each with the secrets and memory size `template.yaml` gives it")
        w("(read at init, as deployed: `health`, `preflight`, `openid-configuration` and the reference lists and `get-registration` read")
        w("none, the bearer routes the public keys, the code routes the code key; both at once where both are")
        w("named, one after the other on one connection), its SDK configuration from the environment as Lambda")
        w("gives it (no aws-config chain: ~4 ms less); the memory size is passed as Lambda passes it, but the CPU")
        w("is not capped to its share here,")
        w("given its event from `events/`: init = process start → first `/next`; cold =")
        w("process start → first answer (includes the first request's DynamoDB calls to moto); warm = median of the")
        w("next 20 answers; peak = VmHWM after them.")
        w("")
        w("| function | init ms | cold ms | warm ms | peak RSS MiB | memory MB | answer |")
        w("|---|---|---|---|---|---|---|")
        for f in sorted(cold):
            c = cold[f]
            w(f"| {f} | {c['init_ms']:.1f} | {c['cold_ms']:.1f} | {c['warm_median_ms']:.1f} | {c['peak_rss_mib']} | "
              f"{memory.get(f, '?')} | {c['status']} |")
        w("")
        peaks = [c["peak_rss_mib"] for c in cold.values() if c["peak_rss_mib"]]
        w(f"Peak memory stays at {min(peaks):.0f}–{max(peaks):.0f} MiB (argon2's 19 MiB included), so 128 MB would fit every")
        w("function. Memory is chosen for CPU instead: Lambda gives a full vCPU at 1,769 MB and proportionally")
    w(f"less below. At 1,024 MB an argon2 hash takes about {hash_ms * FULL_VCPU_MB / 1024:.0f} ms, at 128 MB about "
      f"{hash_ms * FULL_VCPU_MB / 128:.0f} ms, for the same GB-seconds;")
    w("so the seven hashing functions get 1,024 MB (a login answers in well under 100 ms), the token issuers and")
    w(f"writers 256 MB (an RS256 signature ≈ {sign_us / 1000 * FULL_VCPU_MB / 256:.0f} ms there), plain reads 128 MB.")
    w("")

    # Cost.
    w("## 5. Cost of 1 million monthly active users")
    w("")
    w("Assumptions per monthly active user and month (change `ACTIVITY` in `scripts/bench/report.py`):")
    w("8% sign up (start, two status reads, e-mail and phone verification: one e-mail and one SMS); 2 logins,")
    w("each with 2FA by SMS (a phone is required by default); 60 refreshes (15-minute access tokens); 20 profile")
    w("reads; 1 logout; 3% reset a password (one e-mail). Prices: us-east-1 list prices (arm64 Lambda, DynamoDB on")
    w(f"demand, HTTP API, SES $0.10 per 1,000, SMS ${PRICE['sms']} each — SMS prices vary by country, up to 10×).")
    w(f"Storage: {REGISTERED_USERS / 1e6:.0f} M registered users × {STORED_KB_PER_USER:g} KB.")
    w("")
    requests = lambda_total = ddb_total = 0.0
    for f, per_user in ACTIVITY.items():
        if f not in cpu["endpoints"]:
            continue
        n = per_user * MAU
        _, _, lambda_cost, ddb = estimate(f)
        requests += n
        lambda_total += n * lambda_cost
        ddb_total += n * ddb
    # Cold key caches: assume 2% of requests meet one (+ its read units).
    ddb_total += requests * 0.02 * cold_cache["read_units"] * PRICE["ddb_read_unit"]
    storage = REGISTERED_USERS * STORED_KB_PER_USER / 1024 / 1024 * PRICE["ddb_storage_gb"]
    api = requests * PRICE["http_api_request"]
    email = EMAILS_PER_MAU * MAU * PRICE["ses_email"]
    sms = SMS_PER_MAU * MAU * PRICE["sms"]
    own = lambda_total + ddb_total + storage + api + email
    w("| item | per month |")
    w("|---|---|")
    w(f"| requests | {requests / 1e6:,.1f} M |")
    w(f"| Lambda (requests + GB-seconds at the template's memory) | ${lambda_total:,.0f} |")
    w(f"| DynamoDB on demand (measured units per request) + storage | ${ddb_total:,.0f} + ${storage:,.0f} |")
    w(f"| API Gateway HTTP API | ${api:,.0f} |")
    w(f"| SES e-mail | ${email:,.0f} |")
    w(f"| **Registrar without SMS** | **${own:,.0f}** |")
    w(f"| SNS SMS ({SMS_PER_MAU * MAU / 1e6:.2f} M messages; the same with Cognito) | ${sms:,.0f} |")
    w("")
    w("| Cognito user pools (list price per MAU, 10,000 free; SMS and e-mail billed on top) | per month |")
    w("|---|---|")
    w(f"| Lite (tiered $0.0055 → $0.0046) | ${cognito_lite(MAU):,.0f} |")
    w(f"| Essentials ($0.015) | ${(MAU - 10_000) * COGNITO_ESSENTIALS:,.0f} |")
    w(f"| Plus ($0.020, no free tier) | ${MAU * COGNITO_PLUS:,.0f} |")
    w("")
    w(f"Registrar's own bill is about {own / cognito_lite(MAU) * 100:.0f}% of Cognito Lite's and "
      f"{own / ((MAU - 10_000) * COGNITO_ESSENTIALS) * 100:.0f}% of Essentials'. SMS for 2FA dwarfs both.")
    w("")
    # The same month with 2FA by app or passkey by default.
    app_extra = ACTIVITY["verify-mfa"] * MAU * APP_ANSWER_WRITE_UNITS * PRICE["ddb_write_unit"]
    sms_app = SMS_PER_MAU_APP * MAU * PRICE["sms"]
    w("### 2FA by authenticator app or passkey by default")
    w("")
    w("The same month when users answer the login's second factor with an app or a passkey (the challenge lists")
    w("them first, and no SMS goes out unless the client picks `sms`). The sign-up still texts a code where the")
    w("tenant requires a phone; a tenant with `phone_required: false` and `sms` left out of")
    w("`second_factors.allowed` sends none at all. An app answer writes the user item (the step it used) in the")
    w(f"login's transaction: about {APP_ANSWER_WRITE_UNITS:g} more write units per login.")
    w("")
    w("| scenario | Registrar | SMS | total per month |")
    w("|---|---|---|---|")
    w(f"| 2FA by SMS (above) | ${own:,.0f} | ${sms:,.0f} | ${own + sms:,.0f} |")
    w(f"| 2FA by app or passkey, phone verified at sign-up | ${own + app_extra:,.0f} | ${sms_app:,.0f} | "
      f"${own + app_extra + sms_app:,.0f} |")
    w(f"| 2FA by app or passkey, no SMS at all | ${own + app_extra:,.0f} | $0 | ${own + app_extra:,.0f} |")
    w("")
    w(f"Moving 2FA off SMS takes the month from ${own + sms:,.0f} to ${own + app_extra + sms_app:,.0f} "
      f"({(own + app_extra + sms_app) / (own + sms) * 100:.0f}%), or ${own + app_extra:,.0f} without any SMS.")
    w("")
    ci = load(directory, "ci-time.json")
    if ci:
        w("## 6. CI time")
        w("")
        w(f"A cold `bash .ci/run` (`scripts/ci-time.sh`: a fresh clone of {ci['commit']}, an empty `target/`, "
          f"{ci['cores']} cores): {ci['total_seconds'] / 60:.1f} minutes in all, "
          f"{(ci['total_seconds'] - ci['tools_seconds']) / 60:.1f} without installing the tools "
          f"(virtualenvs from the package index, with pip's download cache as the machine had it, "
          f"{ci['tools_seconds'] / 60:.1f} minutes); exit {ci['exit']}"
          + (f", {ci['tests']['passed']} tests passed, {ci['tests']['failed']} failed." if ci.get("tests") else "."))
        w("")
        w("| phase | minutes |")
        w("|---|---|")
        for phase in ci["phases"]:
            w(f"| {phase['phase']} | {phase['seconds'] / 60:.1f} |")
        w("")
    figures = load(directory, "import.json")
    if figures:
        lines.extend(import_section(figures))
    lambda_load = load(directory, "lambda-load.json")
    if "traces_by_life" in dynamo:
        model = capacity(directory, cpu, dynamo, memory, lambda f, calls: est_duration_ms(cpu, dynamo, memory, f, calls), lambda_load)
        lines.extend(capacity_section(model, template_route_limits()))
    if lambda_load:
        lines.extend(lambda_load_section(lambda_load))
    pathlib.Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")

    # The README quotes the headline figures between its bench markers.
    by_mode = {r["mode"]: r for r in load_runs}
    headline = [
        f"- one login: {login_wall_ms:.1f} ms end to end, {ratio:.2f}× the reference argon2 hash "
        f"({reference_ms:.1f} ms); everything but the hash {non_hash_us:,.0f} µs CPU ({sign_us:,.0f} µs of it the RS256 signature)",
        f"- DynamoDB round trips: sign-up completion {completion['round_trips']}, refresh {refresh['round_trips']}, "
        f"profile read {worst('get-me')['round_trips']}",
    ]
    if {"start-registration", "login", "refresh"} <= by_mode.keys():
        headline.append("- local API under wrk: " + "; ".join(
            f"{m} {by_mode[m]['rps']:,.0f}/s, p50 {by_mode[m]['p50_ms']:.1f} ms, p99 {by_mode[m]['p99_ms']:.1f} ms"
            for m in ("start-registration", "login", "refresh")) + f"; {errors} errors")
    if cold:
        colds = [c["cold_ms"] for c in cold.values()]
        peaks = [c["peak_rss_mib"] for c in cold.values() if c["peak_rss_mib"]]
        headline.append(f"- cold start to first answer {min(colds):.0f}–{max(colds):.0f} ms; peak memory "
                        f"{min(peaks):.0f}–{max(peaks):.0f} MiB; init {min(c['init_ms'] for c in cold.values()):.0f}–"
                        f"{max(c['init_ms'] for c in cold.values()):.0f} ms; binaries "
                        f"{min(sizes.values()) / 1e6:.1f}–{biggest:.1f} MB")
    headline.append(f"- 1 M monthly active users: about ${own:,.0f}/month on AWS without SMS "
                    f"(Cognito Lite ${cognito_lite(MAU):,.0f}, Essentials ${(MAU - 10_000) * COGNITO_ESSENTIALS:,.0f}); "
                    f"SMS 2FA ${sms:,.0f} either way; with 2FA by app or passkey instead, "
                    f"${own + app_extra + sms_app:,.0f} in all")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        block = f"{start}\n" + "\n".join(headline) + f"\n\n(Measured {today}; details in BENCHMARKS.md.)\n{end}"
        readme.write_text(before + block + after, encoding="utf-8")
        print("updated the README's headline figures")


IMPORT_HEADING = "## 7. Import"


def import_section(figures):
    """Users imported per second (registrar-bench import)."""
    out = [IMPORT_HEADING, ""]
    out.append("`registrar-bench import`: users imported through `POST /v1/users/import` (the function's handler, "
               f"in-process, batches of {figures['memory']['batch']}, as `registrar-admin user import` sends them), "
               "each with an argon2id hash as an export writes it (an import parses a hash, never verifies one), "
               f"and the same writes as a creation (the user, its e-mail lock, indexes and audit entry in one "
               f"transaction). One process, {figures.get('cores', '?')} cores shared with other work.")
    out.append("")
    out.append("| store | users | seconds | users per second | one batch, median | p90 |")
    out.append("|---|---|---|---|---|---|")
    names = {"memory": "embedded (in-memory)", "moto": "DynamoDB on moto (local HTTP)"}
    for store in ("memory", "moto"):
        run = figures.get(store)
        if not run:
            continue
        out.append(f"| {names[store]} | {run['users']:,} | {run['seconds']:.1f} | {run['users_per_s']:,.0f} | "
                   f"{run['batch_wall']['median_us'] / 1000:.0f} ms | {run['batch_wall']['p90_us'] / 1000:.0f} ms |")
    out.append("")
    out.append("The users of a batch are created one after another, each in a transaction of its own, so on "
               "DynamoDB the rate is bound by round trips, not CPU; moto is a local Python server, whose round "
               "trips are not AWS's.")
    out.append("")
    return out


def render_only(section, directory, out):
    """Replaces (or appends) one section of the report as it stands."""
    directory = pathlib.Path(directory)
    if section == "capacity":
        cpu, dynamo = load(directory, "cpu.json"), load(directory, "dynamodb.json")
        if not cpu or not dynamo or "traces_by_life" not in dynamo:
            sys.exit(f"{directory}/cpu.json and dynamodb.json (with traces) needed: run registrar-bench first")
        memory = memory_by_function()
        model = capacity(directory, cpu, dynamo, memory, lambda f, calls: est_duration_ms(cpu, dynamo, memory, f, calls),
                         load(directory, "lambda-load.json"))
        replace_section(out, CAPACITY_HEADING, "\n".join(capacity_section(model, template_route_limits())))
        print(f"wrote the {section} section of {out}")
        return
    if section == "lambda-load":
        figures = load(directory, "lambda-load.json")
        if not figures:
            sys.exit(f"{directory}/lambda-load.json missing: run scripts/bench/lambda_load.py first")
        replace_section(out, LAMBDA_LOAD_HEADING, "\n".join(lambda_load_section(figures)))
        print(f"wrote the {section} section of {out}")
        return
    if section == "endpoints":
        cpu, dynamo = load(directory, "cpu.json"), load(directory, "dynamodb.json")
        if not cpu or not dynamo:
            sys.exit(f"{directory}/cpu.json and dynamodb.json needed: run registrar-bench first")
        block = endpoints_section(cpu, dynamo, memory_by_function(), rendered_alone=True)
        replace_section(out, ENDPOINTS_HEADING, "\n".join(block))
        print(f"wrote the {section} section of {out}")
        return
    if section != "import":
        sys.exit(f"no section {section!r} (only: import, capacity, lambda-load, endpoints)")
    figures = load(pathlib.Path(directory), "import.json")
    if not figures:
        sys.exit(f"{directory}/import.json missing: run registrar-bench import first")
    block = "\n".join(import_section(figures))
    text = pathlib.Path(out).read_text(encoding="utf-8")
    if IMPORT_HEADING in text:
        before, rest = text.split(IMPORT_HEADING, 1)
        after = rest[rest.index("\n## "):] if "\n## " in rest else ""
        text = before + block + ("\n" + after.lstrip("\n") if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    pathlib.Path(out).write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote the {section} section of {out}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--only"]:
        render_only(*sys.argv[2:])
    else:
        main(*sys.argv[1:])
