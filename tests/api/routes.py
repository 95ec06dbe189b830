"""The routes the server registers, as docs/SECURITY.md lists them.

The server has no command that prints its routes, and how routes are registered in Sources/ is
free to change; the route table of docs/SECURITY.md is not: the Swift suite (SecurityTests,
"docs/SECURITY.md lists every route of RouteAccess.table with its requirement") fails when a
registered route is missing from it or a listed one is not registered. Its rows read

    | `GET /api/v1/enterprises/:code` | `viewEnterprise` | … |

and `:code` becomes `{code}` as in OpenAPI.
"""
from __future__ import annotations

import re
from pathlib import Path

_ROW = re.compile(r"^\|\s*`([A-Z]+) (/[^`]*)`\s*\|")


def from_security_md(path: Path) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every route row of docs/SECURITY.md."""
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            route = "/".join("{" + p[1:] + "}" if p.startswith(":") else p for p in m.group(2).split("/"))
            found.add((m.group(1), route))
    return found
