#!/usr/bin/env python3
"""Fails when modules of the `shared` crate import each other in a circle.

    python3 scripts/import-cycles.py

Reads every `crate::…`, `super::…` and `self::…` path in shared/src (test
modules left out), resolves it to the module it names, and looks for
strongly connected components (Tarjan). A module and its own child (or
parent) may use each other: `domain::auth` and `domain::auth::with_code`.
docs/architecture.md states the rule. Prints each cycle with its edges.
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shared", "src")


def modules():
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, ROOT)[:-3]
            if rel.endswith("/mod"):
                rel = rel[:-4]
            if rel == "lib":
                rel = ""
            found[rel.replace("/", "::")] = path
    return found


def resolve(names, current, path):
    """The longest module `path` (as written in `current`) names."""
    parts = path.split("::")
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    elif parts[0] == "super":
        base = current.split("::")[:-1] if current else []
        parts = parts[1:]
        while parts and parts[0] == "super":
            base, parts = base[:-1], parts[1:]
    elif parts[0] == "self":
        base, parts = current.split("::"), parts[1:]
    else:
        return None
    for n in range(len(parts), 0, -1):
        candidate = "::".join(base + parts[:n])
        if candidate in names:
            return candidate
    return None


def related(a, b):
    return a == b or not b or b.startswith(a + "::") or a.startswith(b + "::")


def edges(found):
    names = set(found)
    graph = {m: set() for m in names}
    for module, path in found.items():
        source = open(path).read().split("#[cfg(test)]")[0]
        paths = re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", source)
        for prefix, group in re.findall(r"use (crate|super)::\{([^}]*)\}", source):
            paths += [f"{prefix}::{item.strip().split('::')[0]}" for item in group.split(",") if item.strip()]
        for written in paths:
            target = resolve(names, module, written)
            if target is not None and not related(module, target):
                graph[module].add(target)
    return graph


def cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    graph = edges(modules())
    found = cycles(graph)
    for component in found:
        print(f"import cycle of {len(component)} modules:")
        for module in component:
            print(f"  {module} -> {', '.join(sorted(graph[module] & set(component)))}")
    print(f"import-cycles: {len(graph)} modules, {len(found)} cycles")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
