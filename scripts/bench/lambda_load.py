#!/usr/bin/env python3
"""Load on the Lambda path: the hot functions' release binaries under the
Lambda Runtime API emulator of the cold-start benchmark (coldstart.py),
several processes per function, each one invocation at a time as Lambda
runs an instance, against DynamoDB on moto.

    python3 scripts/bench/lambda_load.py BIN_DIR MOTO_URL OUT.json

The events follow users through their lives, each answer feeding the next
event: sign-up (start, e-mail code, phone, phone code: the sandbox tenant
requires a phone, as the default policy does), profile reads with the access
token, chains of refreshes (each rotated token used once), then a login with
2FA by SMS and its answer. Each phase runs alone, its events spread over the
function's processes; throughput = the phase's answers ÷ its wall time;
p50/p99 = the emulator's time from handing an event to its answer. Every
answer must have the status the flow expects.

    LAMBDA_LOAD_USERS (default 40), LAMBDA_LOAD_PROCESSES (default 3, per
    function), LAMBDA_LOAD_REPEAT (default 4: profile reads and refreshes
    per user)
"""
import copy
import json
import os
import pathlib
import queue
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/bench
import coldstart  # noqa: E402  (the emulator, the functions' environment)

ROOT = coldstart.ROOT
USERS = int(os.environ.get("LAMBDA_LOAD_USERS", "40"))
PROCESSES = int(os.environ.get("LAMBDA_LOAD_PROCESSES", "3"))
REPEAT = int(os.environ.get("LAMBDA_LOAD_REPEAT", "4"))
PASSWORD = "Orchid!Lantern58"
CODE = "123456"  # the sandbox tenant's code (development-mode seed)
PHASES = [
    ("start-registration", 202),
    ("verify-registration-email", 200),
    ("add-registration-phone", 202),
    ("verify-registration-phone", 201),
    ("get-me", 200),
    ("refresh", 200),
    ("login", 200),
    ("verify-mfa", 200),
]


class Instance:
    """One process of a function behind its own Runtime API emulator."""

    def __init__(self, bin_dir, function, moto, table):
        self.function = function
        self.runtime = coldstart.Runtime()
        threading.Thread(target=self.runtime.serve_forever, daemon=True).start()
        env = coldstart.environment(self.runtime, function, moto, table, dev=False)
        self.process = subprocess.Popen([str(bin_dir / function)], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.invocations = 0
        self.stderr = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.process.stderr:
            self.stderr.append(line)
            del self.stderr[:-20]

    def invoke(self, event):
        self.invocations += 1
        sent = time.perf_counter()
        self.runtime.events.put((f"req-{self.function}-{self.invocations}", event))
        at, kind, body = self.runtime.answers.get(timeout=120)
        if kind != "response":
            raise RuntimeError(f"{self.function}: invocation error {body[:300]!r}")
        answer = json.loads(body)
        payload = answer.get("body") or "null"
        return (at - sent) * 1000, answer.get("statusCode"), json.loads(payload) if payload.startswith(("{", "[")) else payload

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.runtime.shutdown()
        self.runtime.server_close()


def event(function, body=None, path_id=None, bearer=None, device=None, n=0):
    """The function's event from events/, with this call's body, path and headers."""
    e = copy.deepcopy(json.loads((ROOT / "events" / f"{function}.json").read_text()))
    route = e["routeKey"].split(" ", 1)[1]
    path = route.replace("{id}", path_id) if path_id else e["rawPath"]
    e["rawPath"] = path
    e["requestContext"]["http"]["path"] = path
    e["requestContext"]["requestId"] = f"load-{function}-{n}-{time.monotonic_ns()}"
    e["requestContext"]["timeEpoch"] = int(time.time() * 1000)
    if path_id:
        e["pathParameters"] = {"id": path_id}
    headers = e["headers"]
    headers["x-request-id"] = e["requestContext"]["requestId"]
    if device:
        headers["x-device-id"] = device
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    if body is None:
        e.pop("body", None)
        headers["content-length"] = "0"
    else:
        e["body"] = json.dumps(body)
        headers["content-length"] = str(len(e["body"]))
    return e


def run_phase(instances, tasks):
    """Runs `tasks` (callables taking an invoke function) on the instances,
    one task at a time per instance; the samples and the phase's wall time."""
    work = queue.Queue()
    for task in tasks:
        work.put(task)
    samples, failures = [], []
    lock = threading.Lock()

    def worker(instance):
        def invoke(e, expected):
            ms, status, body = instance.invoke(e)
            with lock:
                samples.append(ms)
                if status != expected:
                    failures.append(f"{status} (expected {expected}): {str(body)[:200]}")
            return status, body

        while True:
            try:
                task = work.get_nowait()
            except queue.Empty:
                return
            try:
                task(invoke)
            except Exception as error:  # a failed chain: counted, the phase goes on
                with lock:
                    failures.append(repr(error)[:300])

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, failures, time.perf_counter() - started


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p))]


def main(bin_dir, moto, out):
    bin_dir = pathlib.Path(bin_dir)
    table = f"registrar-lambda-load-{os.getpid()}"
    admin = bin_dir / "registrar-admin"
    base_env = {**os.environ, "REGISTRAR_TABLE": table, "REGISTRAR_DYNAMODB_ENDPOINT": moto,
                "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    subprocess.run([str(admin), "create-table"], env=base_env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(admin), "--stack", coldstart.STACK, "secrets", "create"], check=True,
                   stdout=subprocess.DEVNULL, env={**base_env, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto})

    # Seed the sandbox tenant (development mode): its fixed code, and per-IP
    # limits raised (every event comes from one documentation address).
    def seed_env(runtime):
        env = coldstart.environment(runtime, "health", moto, table, dev=True)
        env.update({"REGISTRAR_SANDBOX_CODE": CODE, "REGISTRAR_IP_LIMIT": "1000000000"})
        return env

    coldstart.measure(bin_dir, "health", seed_env, 0)

    functions = [f for f, _ in PHASES]
    instances = {f: [Instance(bin_dir, f, moto, table) for _ in range(PROCESSES)] for f in functions}
    results = {}
    try:
        # Each process's cold start (its first event, from events/) before the clock runs.
        for f in functions:
            template = json.loads((ROOT / "events" / f"{f}.json").read_text())
            for instance in instances[f]:
                instance.invoke(template)

        users = [{"n": n, "email": f"load{n}-{os.getpid()}@example.com", "device": f"load-device-{n}",
                  "phone": f"+4179{2_000_000 + n:07d}"} for n in range(USERS)]
        expected = dict(PHASES)

        def step(function, make_event, keep):
            def tasks_for(user):
                def task(invoke):
                    status, body = invoke(make_event(user), expected[function])
                    if status == expected[function]:
                        keep(user, body)
                return task
            return [tasks_for(u) for u in users if u.get("ok", True)]

        def record(function, phase):
            samples, failures, wall = phase
            results[function] = {
                "processes": PROCESSES,
                "invocations": len(samples),
                "seconds": round(wall, 3),
                "throughput_per_s": round(len(samples) / wall, 1) if wall else None,
                "p50_ms": round(percentile(samples, 0.5), 2) if samples else None,
                "p99_ms": round(percentile(samples, 0.99), 2) if samples else None,
                "mean_ms": round(statistics.mean(samples), 2) if samples else None,
                "errors": len(failures),
                "first_errors": failures[:3],
            }
            print(f"lambda-load: {function}: {results[function]}", file=sys.stderr)

        def fail_unkept(key):
            for u in users:
                if key not in u:
                    u["ok"] = False

        sign_up = lambda u: {"email": u["email"], "password": PASSWORD, "first_name": "Load", "last_name": "User",
                             "terms_accepted": True, "privacy_policy_accepted": True}
        record("start-registration", run_phase(instances["start-registration"], step(
            "start-registration", lambda u: event("start-registration", sign_up(u), device=u["device"]),
            lambda u, b: u.update(reg=b["registration_id"]))))
        fail_unkept("reg")
        record("verify-registration-email", run_phase(instances["verify-registration-email"], step(
            "verify-registration-email",
            lambda u: event("verify-registration-email", {"code": CODE}, path_id=u["reg"], device=u["device"]),
            lambda u, b: u.update(email_ok=True))))
        fail_unkept("email_ok")
        record("add-registration-phone", run_phase(instances["add-registration-phone"], step(
            "add-registration-phone",
            lambda u: event("add-registration-phone", {"phone": u["phone"]}, path_id=u["reg"], device=u["device"]),
            lambda u, b: u.update(phone_ok=True))))
        fail_unkept("phone_ok")
        record("verify-registration-phone", run_phase(instances["verify-registration-phone"], step(
            "verify-registration-phone",
            lambda u: event("verify-registration-phone", {"code": CODE}, path_id=u["reg"], device=u["device"]),
            lambda u, b: u.update(access=b["access_token"], refresh=b["refresh_token"]))))
        fail_unkept("access")

        # Profile reads: REPEAT per user, spread over the processes.
        def reads(user):
            def task(invoke):
                invoke(event("get-me", bearer=user["access"], device=user["device"]), 200)
            return task
        record("get-me", run_phase(instances["get-me"],
                                   [reads(u) for _ in range(REPEAT) for u in users if u.get("ok", True)]))

        # Refresh chains: each user's rotated token, REPEAT times in order.
        def chain(user):
            def task(invoke):
                for _ in range(REPEAT):
                    status, body = invoke(event("refresh", {"refresh_token": user["refresh"]},
                                                device=user["device"]), 200)
                    if status != 200:
                        return
                    user["refresh"] = body["refresh_token"]
            return task
        record("refresh", run_phase(instances["refresh"], [chain(u) for u in users if u.get("ok", True)]))

        login = lambda u: {"username": u["email"], "password": PASSWORD}
        record("login", run_phase(instances["login"], step(
            "login", lambda u: event("login", login(u), device=u["device"]),
            lambda u, b: u.update(challenge=b.get("challenge_id")))))
        fail_unkept("challenge")
        record("verify-mfa", run_phase(instances["verify-mfa"], step(
            "verify-mfa",
            lambda u: event("verify-mfa", {"challenge_id": u["challenge"], "code": CODE}, device=u["device"]),
            lambda u, b: None)))
    finally:
        for group in instances.values():
            for instance in group:
                if instance.process.poll() is not None:
                    print(f"lambda-load: {instance.function} exited; its last log lines:", file=sys.stderr)
                    print(b"".join(instance.stderr).decode(errors="replace"), file=sys.stderr)
                instance.stop()
    report = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "users": USERS, "processes_per_function": PROCESSES, "repeat": REPEAT, "cores": os.cpu_count(),
              "endpoints": results}
    pathlib.Path(out).write_text(json.dumps(report, indent=2) + "\n")
    errors = sum(r["errors"] for r in results.values())
    print(f"lambda-load: written to {out}; {errors} errors", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
