#!/usr/bin/env python3
"""Checks that every events/*.json has the shape of the HTTP API (payload 2.0)
event `sam local generate-event apigateway http-api-proxy` produces: the same
core keys with the same JSON types, and no key the real event does not have.

    python3 scripts/check-events.py REFERENCE.json events/*.json
"""
import json
import sys

# Keys the real event may leave out (API Gateway omits them when empty).
OPTIONAL = {
    "cookies", "queryStringParameters", "pathParameters", "stageVariables", "body",
    "requestContext.authentication", "requestContext.authorizer",
}
# Keys the real event has that the generated sample lacks.
EXTRA_ALLOWED = {"pathParameters", "pathParameters.*"}


def shape(value, prefix=""):
    """Maps each key path to its JSON type; headers and maps are opaque."""
    out = {}
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out[path] = type(inner).__name__
            if path not in ("headers", "queryStringParameters", "pathParameters", "stageVariables") and not path.startswith(
                "requestContext.authorizer"
            ) and not path.startswith("requestContext.authentication"):
                out.update(shape(inner, path))
    return out


def main():
    reference = shape(json.load(open(sys.argv[1])))
    failures = []
    for name in sys.argv[2:]:
        event = json.load(open(name))
        ours = shape(event)
        for path, kind in reference.items():
            if path in OPTIONAL or any(path.startswith(o + ".") for o in OPTIONAL):
                continue
            if path not in ours:
                failures.append(f"{name}: lacks {path}")
            elif ours[path] != kind:
                failures.append(f"{name}: {path} is {ours[path]}, expected {kind}")
        for path, kind in ours.items():
            if path not in reference and path not in EXTRA_ALLOWED:
                failures.append(f"{name}: {path} is not in an HTTP API 2.0 event")
        if event.get("version") != "2.0":
            failures.append(f"{name}: version is not 2.0")
    for failure in failures:
        print(failure)
    print(f"events: {len(sys.argv) - 2} checked, {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
