#!/usr/bin/env python3
"""Prints the core's module graph (which top-level module of core/src uses which) and fails
when it has a cycle, there or among the sibling modules of any module directory (`auth/`,
`api/`, ...: a child may use its parent, never a sibling that uses it back).

A module uses another when its non-test code names `crate::<other>` (in a `use` or a path).
Test code is left out: files named tests.rs, and everything from a `#[cfg(test)]` line on
(test modules sit at the end of a file here). Usage: scripts/module-graph.py [--dot] [SRC]
"""
import re
import sys
from pathlib import Path

args = [a for a in sys.argv[1:] if not a.startswith("--")]
src = Path(args[0] if args else Path(__file__).resolve().parent.parent / "core" / "src")
dot = "--dot" in sys.argv

modules = sorted(
    p.stem if p.is_file() else p.name
    for p in src.iterdir()
    if (p.suffix == ".rs" and p.stem != "lib") or (p.is_dir() and (p / "mod.rs").exists())
)
edges = {m: set() for m in modules}
use_block = re.compile(r"use crate::\{([^;]*)\};", re.S)
path_ref = re.compile(r"crate::([a-z_][a-z0-9_]*)")


def non_test(text: str) -> str:
    cut = re.search(r"^\s*#\[cfg\(test\)\]", text, re.M)
    return text[: cut.start()] if cut else text


for m in modules:
    root = src / f"{m}.rs"
    files = [root] if root.exists() else sorted((src / m).rglob("*.rs"))
    for f in files:
        if f.name == "tests.rs" or "testing" in f.parts:
            continue
        text = non_test(f.read_text())
        text = re.sub(r"//[^\n]*", "", text)
        names = set(path_ref.findall(text))
        for block in use_block.findall(text):
            names.update(re.findall(r"(?:^|[,{]\s*)([a-z_][a-z0-9_]*)", block.strip()))
        for n in names:
            if n in edges and n != m:
                edges[m].add(n)

# Tarjan's strongly connected components.
index, low, stack, on_stack, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for m in modules:
    if m not in index:
        visit(m)

if dot:
    print("digraph core {")
    for m in modules:
        for n in sorted(edges[m]):
            print(f'  "{m}" -> "{n}";')
    print("}")
else:
    for m in modules:
        print(f"{m:10} -> {', '.join(sorted(edges[m])) or '-'}")
cycles = [c for c in sccs if len(c) > 1]


def sibling_cycles(directory: Path, crate_path: str):
    """Cycles among the children of one module directory, then in its child directories."""
    children = sorted(
        p.stem if p.is_file() else p.name
        for p in directory.iterdir()
        if (p.suffix == ".rs" and p.stem not in ("mod", "tests")) or (p.is_dir() and (p / "mod.rs").exists())
    )
    graph = {c: set() for c in children}
    for c in children:
        root = directory / f"{c}.rs"
        files = [root] if root.exists() else sorted((directory / c).rglob("*.rs"))
        for f in files:
            if f.name == "tests.rs" or "tests" in f.relative_to(directory).parts[:-1]:
                continue
            text = re.sub(r"//[^\n]*", "", non_test(f.read_text()))
            depth = len(f.relative_to(directory / c).parts) if not root.exists() else 0
            names = set(re.findall(r"crate::" + re.escape(crate_path) + r"::([a-z_][a-z0-9_]*)", text))
            names |= set(re.findall(r"\bsuper::" + "super::" * depth + r"([a-z_][a-z0-9_]*)", text))
            for block in re.findall(r"use super::" + "super::" * depth + r"\{([^;]*)\};", text, re.S):
                names.update(re.findall(r"(?:^|[,{]\s*)([a-z_][a-z0-9_]*)", block.strip()))
            graph[c].update(n for n in names if n in graph and n != c)
    found = []
    seen = set()
    for start in children:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen:
                        seen.add(key)
                        found.append(f"{crate_path}::{{{' -> '.join(path + [start])}}}")
                elif nxt not in path:
                    stack.append((nxt, path + [nxt]))
    for sub in sorted(p for p in directory.iterdir() if p.is_dir() and (p / "mod.rs").exists()):
        found += sibling_cycles(sub, f"{crate_path}::{sub.name}")
    return found


for m in modules:
    if (src / m).is_dir():
        for c in sibling_cycles(src / m, m):
            cycles.append([c])
for c in cycles:
    print(f"cycle: {' <-> '.join(c)}", file=sys.stderr)
if cycles:
    sys.exit(1)
print(f"no module cycles among {len(modules)} modules", file=sys.stderr)
