"""What a schemathesis run found, read from its NDJSON report (`--report ndjson`).

A finding is one failed check of one test case (or an error the engine reported), with the
request that was sent and the answer that came back. `group()` folds findings that are the same
problem (same operation, same check, same status and the same first line of the message) and
keeps the first as the example; `describe()` prints a group so a person can repeat the request.
"""
from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass
class Finding:
    operation: str
    kind: str              # the check's name, or "error"
    code: str              # ST101 … , or the error's title
    title: str
    message: str
    phase: str
    method: str = ""
    url: str = ""
    request_body: str = ""
    media_type: str = ""
    status: int | None = None
    response_body: str = ""

    def key(self) -> tuple:
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        first = re.sub(r"\d{6,}", "N", first)  # big numbers in messages do not make a new problem
        return self.operation, self.kind, self.code, self.status, first

    def binary_body(self) -> bool:
        return "\ufffd" in self.request_body or bool(re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", self.request_body))

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method, "-H", '"Authorization: Bearer $TOKEN"']
        if self.media_type:
            parts += ["-H", shlex.quote(f"Content-Type: {self.media_type}")]
        if self.request_body and self.binary_body():
            parts += ["--data-binary", "@BODY"]  # binary: the bytes are in the NDJSON report
        elif self.request_body:
            parts += ["--data-binary", shlex.quote(self.request_body)]
        parts.append('"' + self.url.replace('"', '%22') + '"')
        return " ".join(parts)


@dataclass
class Group:
    example: Finding
    count: int = 1
    statuses: set = field(default_factory=set)


def _decode(content: Any, limit: int) -> str:
    if content is None:
        return ""
    if isinstance(content, dict) and "$base64" in content:
        raw = base64.b64decode(content["$base64"])
    elif isinstance(content, str):
        raw = content.encode()
    else:
        raw = json.dumps(content, ensure_ascii=False).encode()
    text = raw[:limit].decode("utf-8", "replace")
    return text + ("…" if len(raw) > limit else "")


def _content_type(case: dict, request: dict) -> str:
    """The Content-Type sent (with a multipart boundary), else the case's media type."""
    for name, value in (request.get("headers") or {}).items():
        if name.lower() == "content-type":
            return value[0] if isinstance(value, list) else str(value)
    return case.get("media_type") or ""


def _url(uri: str) -> str:
    """The request's URL with the server's address as $BASE (the port changes from run to run)."""
    return re.sub(r"^https?://[^/]+", "$BASE", uri or "")


def _request_body(case: dict, request: dict) -> str:
    if "body" in request and request["body"] is not None:
        return _decode(request["body"], 600)
    if "body" in case and case["body"] is not None:
        body = case["body"]
        return body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)[:600]
    return ""


def read(path: Path) -> Iterator[Finding]:
    """Every failed check and every engine error in one NDJSON report."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interrupted run
            name, body = next(iter(event.items()))
            if name == "NonFatalError":
                value = body.get("value") or {}
                kind = str(value.get("type", "error"))
                yield Finding(operation=body.get("label", "?"), kind="error", code=kind,
                              title="the engine could not complete a request" if kind != "ServerUnavailable"
                              else "the server stopped answering",
                              message=re.sub(r"port=\d+", "port=PORT",
                                             re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", str(value.get("message", "")))),
                              phase=str(body.get("phase")))
                continue
            if name != "ScenarioFinished":
                continue
            recorder = body.get("recorder", {})
            label = recorder.get("label", "?")
            cases = recorder.get("cases", {})
            interactions = recorder.get("interactions", {})
            for case_id, inter in interactions.items():
                if inter and inter.get("request") and not inter.get("response"):
                    case = (cases.get(case_id) or {}).get("value", {})
                    request = inter["request"]
                    yield Finding(operation=label, kind="no answer", code="no response",
                                  title="the request got no answer", message="", phase=str(body.get("phase")),
                                  method=request.get("method", ""), url=_url(request.get("uri", "")),
                                  request_body=_request_body(case, request), media_type=_content_type(case, request))
            for case_id, checks in (recorder.get("checks") or {}).items():
                for check in checks:
                    if check.get("status") != "failure":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure", {})
                    case = (cases.get(case_id) or {}).get("value", {})
                    inter = interactions.get(case_id) or {}
                    request = inter.get("request") or {}
                    response = inter.get("response") or {}
                    yield Finding(
                        operation=failure.get("operation") or label, kind=check.get("name", "?"),
                        code=failure.get("code") or failure.get("type", "?"), title=failure.get("title", "?"),
                        message=failure.get("message", ""), phase=str(body.get("phase")),
                        method=request.get("method") or case.get("method", ""), url=_url(request.get("uri", "")),
                        request_body=_request_body(case, request), media_type=_content_type(case, request),
                        status=response.get("status_code"), response_body=_decode(response.get("content"), 400))


def group(findings: list[Finding]) -> list[Group]:
    groups: dict[tuple, Group] = {}
    for f in findings:
        g = groups.get(f.key())
        if g is None:
            groups[f.key()] = Group(example=f, statuses={f.status})
        else:
            g.count += 1
    return list(groups.values())


def describe(g: Group, indent: str = "  ") -> str:
    f = g.example
    head = f"{f.operation} — {f.code} {f.title} [{f.kind}]" + (f" ×{g.count}" if g.count > 1 else "")
    lines = [head]
    msg = f.message.strip()
    if msg:
        lines += [indent + line for line in msg.splitlines()[:12]]
    if f.url:
        lines.append(f"{indent}request ({f.phase}): {f.method} {f.url}")
        if f.request_body:
            body = f.request_body[:300]
            if f.binary_body():
                body = re.sub(r"[^\x09\x0a\x0d\x20-\x7e\u00a0-\uffef]", "?", body.replace("\ufffd", "?")) + \
                    "  (binary: BODY is the request body in the NDJSON report)"
            lines.append(f"{indent}body ({f.media_type or '?'}): {body}")
        lines.append(f"{indent}answer: " + (f"{f.status} {f.response_body[:300]}" if f.status is not None else "none"))
        lines.append(f"{indent}repeat (BASE=http://127.0.0.1:PORT, TOKEN=the run's API token): {f.curl()}")
    return "\n".join(lines)
