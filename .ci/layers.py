#!/usr/bin/env python3
"""Checks the shape of api/src (DESIGN §1): the import graph below the GraphQL
surface has no cycles and never reaches a resolver file; resolver files run
no SQL; no file is over 800 lines (seed data aside).

Usage: python3 .ci/layers.py [--graph]   (exit 1 on a violation)
"""
import os, re, sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api", "src")
ROOT = os.path.normpath(ROOT)
MAX_LINES = 800
SEED_FILES = ("demo/",)  # long linear seed scripts are allowed

RESOLVER = re.compile(r"#\[(Object|Subscription|ComplexObject)\b|derive\([^)]*\b(MergedObject|MergedSubscription|Interface|Union)\b")
SQL = re.compile(r"\bsea_orm\b|::Entity\b|\.begin\(\)|query_all|query_one|execute_unprepared|Statement::")

def files():
    for d, _, fs in os.walk(ROOT):
        for f in fs:
            if f.endswith(".rs"):
                yield os.path.relpath(os.path.join(d, f), ROOT)

def module_of(rel):
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts

def file_of(mod):
    """The deepest existing file for a module path."""
    best = "lib.rs"
    for i in range(1, len(mod) + 1):
        p = "/".join(mod[:i])
        if os.path.exists(os.path.join(ROOT, p + ".rs")):
            best = p + ".rs"
        elif os.path.exists(os.path.join(ROOT, p, "mod.rs")):
            best = p + "/mod.rs"
        else:
            break
    return best

REEXPORTS = {}

def reexports(modfile):
    """Names a mod.rs re-exports (`pub use a::B;`), to the module paths they come from."""
    if modfile not in REEXPORTS:
        out = {}
        text = strip_comments(strip_tests(open(os.path.join(ROOT, modfile)).read()))
        mod = module_of(modfile)
        for m in re.finditer(r"\bpub\s+use\s+([^;]+);", text):
            tree = re.sub(r"\s+as\s+(\w+)", r"@\1", m.group(1))
            for p in expand(re.sub(r"\s+", "", tree)):
                segs = p.split("::")
                name = segs[-1]
                if "@" in name:
                    segs[-1], name = name.split("@")
                if segs[0] == "crate":
                    full = segs[1:]
                elif segs[0] == "super":
                    full = mod[:-1] + segs[1:]
                elif segs[0] == "self":
                    full = mod + segs[1:]
                else:
                    full = mod + segs
                out[name] = full
        REEXPORTS[modfile] = out
    return REEXPORTS[modfile]

def resolve(full, depth=0):
    f = file_of(full)
    if depth < 5 and (f.endswith("mod.rs") or f == "lib.rs"):
        fmod = module_of(f)
        rest = full[len(fmod):]
        if rest:
            target = reexports(f).get(rest[0])
            if target is not None and target != full[:len(fmod) + 1]:
                return resolve(target + rest[1:], depth + 1)
    return f

def expand(tree):
    """Expands a use tree (whitespace removed) into paths."""
    out = []
    depth = 0
    # find top-level brace group
    i = tree.find("{")
    if i < 0:
        return [tree]
    prefix = tree[:i]
    body = tree[i + 1:tree.rfind("}")]
    parts, cur = [], ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur); cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    for p in parts:
        for e in expand(p):
            out.append(prefix + e)
    return out

def strip_tests(text):
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]

def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)

def imports(rel, text):
    mod = module_of(rel)
    is_mod_file = rel.endswith("mod.rs") or rel in ("lib.rs", "main.rs")
    parent = mod if is_mod_file else mod[:-1]
    here = mod
    targets = set()
    code = strip_comments(strip_tests(text))
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        for p in expand(re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", m.group(1)))):
            paths.append(p)
    body = re.sub(r"\buse\s+[^;]+;", "", code)
    paths += re.findall(r"\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+", body)
    # modules imported by name (`use crate::tapering;` then `tapering::x::y`)
    aliases = {}
    for p in list(paths):
        segs = p.split("::")
        last = segs[-1]
        name = last
        if "as" in last and re.match(r"^\w+as\w+$", last):
            pass
        if segs[0] in ("crate", "super", "self") and len(segs) > 1 and re.match(r"^[a-z_][a-z0-9_]*$", name) and name not in ("self", "super", "crate"):
            aliases[name] = segs
        if segs[-1] == "self" and len(segs) > 2:
            aliases[segs[-2]] = segs[:-1]
    for m in re.finditer(r"(?<![:\w])([a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)", body):
        if m.group(1) in aliases:
            paths.append("::".join(aliases[m.group(1)]) + m.group(2))
    for p in paths:
        segs = p.split("::")
        if segs[0] == "crate":
            full = segs[1:]
        elif segs[0] == "super":
            base = list(parent) if not is_mod_file else list(mod[:-1])
            if not is_mod_file:
                base = list(mod[:-1])
            s = segs
            while s and s[0] == "super":
                s = s[1:]
            ups = len(segs) - len(s) - 1
            full = (base[:len(base) - ups] if ups else base) + s
        elif segs[0] == "self":
            full = here + segs[1:]
        else:
            continue
        full = [x for x in full if x not in ("self", "*")]
        f = resolve(full)
        if f != rel:
            targets.add(f)
    # `mod x;` declarations are structure, not imports
    return targets

def main():
    texts = {f: open(os.path.join(ROOT, f)).read() for f in files()}
    resolvers = {f for f, t in texts.items() if RESOLVER.search(strip_tests(t))}
    # The top layer wires everything: the crate roots and the HTTP handlers
    # (which serve the schema).
    top = {f for f in texts if f in ("lib.rs", "main.rs") or f.startswith("http/")}
    graph = {f: imports(f, t) for f, t in texts.items()}
    problems = []
    for f, t in sorted(texts.items()):
        n = t.count("\n")
        if n > MAX_LINES and not f.startswith(SEED_FILES):
            problems.append(f"{f}: {n} lines (max {MAX_LINES})")
        if f in resolvers and SQL.search(strip_comments(strip_tests(t))):
            hits = sorted(set(m.group(0) for m in SQL.finditer(strip_comments(strip_tests(t)))))
            problems.append(f"{f}: resolver file runs SQL ({', '.join(hits)})")
    below = {f for f in texts if f not in resolvers and f not in top}
    # mod.rs files that only declare and re-export count as their children
    for f in sorted(below):
        bad = sorted(g for g in graph[f] if g in resolvers or g == "lib.rs")
        if bad:
            problems.append(f"{f}: below the surface but imports resolver file(s) {', '.join(bad)}")
    # cycles among files below the surface (mod.rs re-exports resolved through)
    sub = {f: {g for g in graph[f] if g in below} for f in below}
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)
    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in sub[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1:
                sccs.append(sorted(comp))
    for v in sorted(sub):
        if v not in index:
            strong(v)
    for comp in sccs:
        edges = [f"{a} -> {b}" for a in comp for b in sorted(sub[a]) if b in comp]
        problems.append("import cycle: " + "; ".join(edges))
    if "--graph" in sys.argv:
        for f in sorted(graph):
            kind = "R" if f in resolvers else ("T" if f in top else "B")
            print(f"[{kind}] {f} -> {', '.join(sorted(graph[f]))}")
    for p in problems:
        print(p)
    print(f"{len(texts)} files, {len(resolvers)} resolver files, {len(problems)} problem(s)")
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
