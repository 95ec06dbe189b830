"""The routes the Swift server registers, read from its source (Sources/**/*.swift).

The server has no command that lists its routes, so this reads the Vapor registrations:

    try APIController().boot(routes: app.grouped("api", "v1"))   the controller's `routes` prefix
    let api = routes.grouped("api", "v1")                         a builder with a prefix
    let admin = routes.grouped(AdminOnly())                       the same prefix (no path part)
    api.get("map", "parcels", use: …)   api.post(…)   api.on(.POST, "appeals", body: …, use: …)
    app.get("healthz") { … }            routes.get { … }          (`app` is the root)

Path components are the string literals before the first other argument; ":id" becomes "{id}"
as in OpenAPI. A registration this reader cannot follow (a builder it has not seen assigned, or
a path built at run time) is returned in `unread`, so that a test can fail on it rather than
miss a route.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

METHODS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}

_BOOT = re.compile(r"(\w+)\(\)\s*\.boot\(\s*routes:\s*([^)]*\))?\s*\)?")
_STRUCT = re.compile(r"^\s*(?:public\s+|private\s+|fileprivate\s+|internal\s+)?(?:struct|final class|class|extension)\s+(\w+)")
_FUNC = re.compile(r"\bfunc\s+\w+")
_ASSIGN = re.compile(r"\b(?:let|var)\s+(\w+)\s*=\s*(\w+)\s*\.grouped\(([^)]*)\)")
_CALL = re.compile(r"\b(\w+)\s*\.\s*(get|post|put|patch|delete|on)\s*(\(|\{)")
_STRING = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*(,|\))')


@dataclass
class Routes:
    found: set[tuple[str, str]] = field(default_factory=set)     # (METHOD, /path/{param})
    unread: list[str] = field(default_factory=list)              # file:line of what could not be read


def _literals(args: str) -> list[str] | None:
    """The leading string literals of an argument list; None if an argument is not a literal."""
    out = []
    rest = args
    while True:
        m = _STRING.match(rest)
        if not m:
            return out
        out.append(m.group(1))
        rest = rest[m.end():]
        if m.group(2) == ")":
            return out


def _prefix_of(group_args: str) -> list[str]:
    return _literals(group_args + ")") or []


def _path(parts: list[str]) -> str:
    return "/" + "/".join("{" + p[1:] + "}" if p.startswith(":") else p for p in parts)


def scan(sources: Path) -> Routes:
    files = sorted(sources.rglob("*.swift"))
    texts = {f: f.read_text(encoding="utf-8") for f in files}
    # the prefix each controller's boot(routes:) gets
    boot_prefix: dict[str, list[str]] = {}
    for text in texts.values():
        for m in _BOOT.finditer(text):
            arg = m.group(2) or ""
            g = re.search(r"\.grouped\(([^)]*)\)", arg)
            boot_prefix[m.group(1)] = _prefix_of(g.group(1)) if g else []
    routes = Routes()
    for f, text in texts.items():
        current_type = ""
        builders: dict[str, list[str]] = {}
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("//", 1)[0]
            if m := _STRUCT.match(code):
                current_type = m.group(1)
            if _FUNC.search(code):
                builders = {"app": [], "routes": boot_prefix.get(current_type, [])}
            for m in _ASSIGN.finditer(code):
                base = builders.get(m.group(2))
                if base is None:
                    routes.unread.append(f"{f.name}:{n}: {code.strip()}")
                    continue
                builders[m.group(1)] = base + _prefix_of(m.group(3))
            for m in _CALL.finditer(code):
                name, verb, opener = m.group(1), m.group(2), m.group(3)
                if name not in builders:
                    continue  # not a route builder (e.g. req.content.get, a dictionary)
                base = builders[name]
                rest = code[m.end():]
                if verb == "on":
                    mm = re.match(r"\s*\.(\w+)\s*,(.*)", rest)
                    if not mm:
                        routes.unread.append(f"{f.name}:{n}: {code.strip()}")
                        continue
                    method, rest = mm.group(1).upper(), mm.group(2)
                else:
                    method = METHODS[verb]
                parts = [] if opener == "{" else (_literals(rest) or [])
                routes.found.add((method, _path(base + parts)))
    return routes
