#!/usr/bin/env python3
"""Cold start, warm latency and peak memory of every Lambda function binary.

    python3 scripts/bench/coldstart.py BIN_DIR MOTO_URL OUT.json

A small emulator of the Lambda Runtime API (the interface the real service
and `cargo lambda watch` offer a `provided.al2023` function) hands each
function its event from events/. For every function it starts the release
binary, as Lambda would, configured for DynamoDB (moto) with real keys, and
measures:
  - init: from process start to its first `GET /invocation/next`, the
    median of COLD_STARTS starts (one start varies by a few milliseconds);
  - cold: from process start to the answer of the first invocation (median);
  - warm: the median answer time of the next 20 invocations;
  - peak memory: VmHWM of the process after them.
The table is created and seeded (sandbox tenant, the events' API key) by one
development-mode start before the measurements, which run without it.
"""
import http.server
import json
import os
import pathlib
import queue
import statistics
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
WARM_INVOCATIONS = 20
COLD_STARTS = 5


class Runtime(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_next = None

    @property
    def address(self):
        return f"127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/invocation/next"):
            if self.server.first_next is None:
                self.server.first_next = time.perf_counter()
            request_id, event = self.server.events.get()
            body = json.dumps(event).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:eu-central-1:123456789012:function:bench")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if "/invocation/" in self.path and self.path.endswith("/response"):
            self.server.answers.put((time.perf_counter(), "response", body))
        elif self.path.endswith("/error"):
            self.server.answers.put((time.perf_counter(), "error", body))


def peak_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


STACK = f"bench-{os.getpid()}"
SECRET_NAMES = {
    "CodeKey": "code-key",
    "SigningKeys": "signing-keys",
    "PublicKeys": "public-keys",
    "Webhook": "webhook-secret",
}


def template_environment():
    """Each function's own variables naming its secrets, and its memory, as
    template.yaml gives them (the one source: a function reads at cold start
    exactly the secrets it is deployed with)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node)
        else:
            value = loader.construct_mapping(node)
        return {suffix: value}

    Loader.add_multi_constructor("!", tag)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    defaults = template.get("Globals", {}).get("Function", {})
    out = {}
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        properties = resource["Properties"]
        variables = {**defaults.get("Environment", {}).get("Variables", {}),
                     **properties.get("Environment", {}).get("Variables", {})}
        env = {}
        for name, value in variables.items():
            if name.startswith("REGISTRAR_") and name.endswith("_SECRET"):
                secret = value["Ref"].removesuffix("Secret")
                env[name] = f"{STACK}/{SECRET_NAMES[secret]}"
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(properties.get("MemorySize", defaults.get("MemorySize", 128)))
        out[binary] = env
    return out


TEMPLATE_ENV = template_environment()


def environment(runtime, function, moto, table, dev):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "REGISTRAR_STORE": "dynamodb",
        "REGISTRAR_TABLE": table,
        "REGISTRAR_DYNAMODB_ENDPOINT": moto,
        "REGISTRAR_SENDER": "outbox",
        "REGISTRAR_OUTBOX_DIR": str(ROOT / "target" / "bench" / "outbox"),
        "REGISTRAR_ISSUER": "https://auth.example.com",
        # Secrets come from Secrets Manager (on moto), as deployed (a function
        # refuses them in its environment), and only those the template names
        # for the function, with its memory size.
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto,
        **TEMPLATE_ENV[function],
        "REGISTRAR_LOG_FORMAT": "json",
        "RUST_LOG": "warn",
    }
    if dev:
        env.update({"REGISTRAR_CODE_KEY_SECRET": f"{STACK}/code-key",
                    "REGISTRAR_SIGNING_KEYS_SECRET": f"{STACK}/signing-keys"})
        env.update({"REGISTRAR_DEV": "true", "REGISTRAR_API_KEY": "sk_sandbox_events_example_key",
                    "REGISTRAR_ADMIN_TOKEN": "adm_local_events_example_admin_token",
                    "REGISTRAR_SANDBOX_CODE": "123456"})
    return env


def invoke(runtime, event, n):
    runtime.events.put((f"req-{n}", event))
    at, kind, body = runtime.answers.get(timeout=60)
    status = json.loads(body).get("statusCode") if kind == "response" else None
    return at, kind, status


def measure(bin_dir, function, make_env, warm_invocations=WARM_INVOCATIONS):
    """One process of `function` against its own emulator (a killed process
    leaves a long poll behind, which must not take the next one's event)."""
    runtime = Runtime()
    threading.Thread(target=runtime.serve_forever, daemon=True).start()
    env = make_env(runtime)
    event = json.loads((ROOT / "events" / f"{function}.json").read_text())
    started = time.perf_counter()
    process = subprocess.Popen([str(bin_dir / function)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    failed = True
    try:
        answered, kind, status = invoke(runtime, event, 0)
        if kind != "response":
            raise SystemExit(f"{function}: the first invocation failed")
        warm = []
        for n in range(1, warm_invocations + 1):
            sent = time.perf_counter()
            at, kind, _ = invoke(runtime, event, n)
            warm.append((at - sent) * 1000)
        peak = peak_kib(process.pid)
        failed = False
    finally:
        process.kill()
        _, stderr = process.communicate()
        if failed:
            print(f"coldstart: {function} did not answer; its last log lines:", file=sys.stderr)
            print(b"\n".join(stderr.splitlines()[-10:]).decode(errors="replace"), file=sys.stderr)
        runtime.shutdown()
        runtime.server_close()
    return {
        "init_ms": round((runtime.first_next - started) * 1000, 2),
        "cold_ms": round((answered - started) * 1000, 2),
        "warm_median_ms": round(statistics.median(warm), 2) if warm else None,
        "status": status,
        "peak_rss_mib": round(peak / 1024, 1) if peak else None,
        "stderr_lines": len(stderr.splitlines()),
    }


def main(bin_dir, moto, out):
    bin_dir = pathlib.Path(bin_dir)
    table = f"registrar-coldstart-{os.getpid()}"
    admin = bin_dir / "registrar-admin"
    base_env = {**os.environ, "REGISTRAR_TABLE": table, "REGISTRAR_DYNAMODB_ENDPOINT": moto,
                "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    subprocess.run([str(admin), "create-table"], env=base_env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(admin), "--stack", STACK, "secrets", "create"], check=True, stdout=subprocess.DEVNULL,
                   env={**base_env, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto})
    functions = sorted(p.stem for p in (ROOT / "events").glob("*.json"))
    # Seed the sandbox tenant once (development mode), then measure without.
    measure(bin_dir, "health", lambda rt: environment(rt, "health", moto, table, dev=True))
    results = {}
    for function in functions:
        make_env = lambda rt, f=function: environment(rt, f, moto, table, dev=False)
        result = measure(bin_dir, function, make_env)
        starts = [result] + [measure(bin_dir, function, make_env, 0) for _ in range(COLD_STARTS - 1)]
        result["init_ms_starts"] = [start["init_ms"] for start in starts]
        result["init_ms"] = round(statistics.median(result["init_ms_starts"]), 2)
        result["cold_ms"] = round(statistics.median(start["cold_ms"] for start in starts), 2)
        results[function] = result
        print(f"coldstart: {function}: {results[function]}", file=sys.stderr)
    pathlib.Path(out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
