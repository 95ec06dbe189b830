"""The OpenAPI document at /openapi.json against the live server (before schemathesis fuzzes it):

* it is a valid OpenAPI 3 document (openapi-spec-validator);
* every documented operation answers, with valid parameters, something other than 404/405;
* every registered JSON route (under /api/v1, /healthz, /openapi.json) is documented, with its
  method: the registered routes are those of the route table in docs/SECURITY.md, which the
  Swift suite keeps equal to the server's (routes.py); and every undocumented method of a
  documented path is tried on the server.

Each check lists everything it finds wrong at once. The OGC API (/ogc/…) has its own OpenAPI
document at /ogc/api and is not covered here.
"""
from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

import routes
from conftest import REPO, LiveServer

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
HOME_TOWN = "古山镇"


def operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, item in doc.get("paths", {}).items()
            for method, op in item.items() if method in HTTP_METHODS]


def is_json_route(path: str) -> bool:
    return path.startswith("/api/v1/") or path in ("/healthz", "/openapi.json")


# ------------------------------------------------------------------ the document itself
def test_openapi_json_is_served_as_json(server: LiveServer) -> None:
    a = server.request("GET", "/openapi.json")
    assert a.status == 200, f"GET /openapi.json -> {a.status}: {a.text()}"
    assert a.headers.get("content-type", "").startswith("application/json"), a.headers.get("content-type")
    assert isinstance(a.json(), dict)


def test_openapi_json_is_a_valid_openapi_document(doc: dict) -> None:
    version = str(doc.get("openapi", ""))
    assert version.startswith("3."), f"openapi: {version!r}"
    validator = (OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator)(doc)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in validator.iter_errors()]
    assert not errors, f"{len(errors)} problems (openapi-spec-validator):\n" + "\n".join(errors)


def test_every_operation_has_an_operation_id_and_responses(doc: dict) -> None:
    ops = operations(doc)
    assert len(ops) >= 10, f"only {len(ops)} operations documented"
    bad = [f"{m} {p}" for m, p, op in ops if not op.get("operationId") or not op.get("responses")]
    assert not bad, f"operations without operationId or responses: {bad}"


# ------------------------------------------------------------------ valid parameters
KNOWN: dict[str, int] = {}


class ValidValues:
    """Parameter values that name things the demo city has (read from the API)."""

    def __init__(self, server: LiveServer):
        self.server = server
        years = server.get_json("/api/v1/years")
        assert years.get("evaluated"), f"no evaluated year: {years}"
        self.years = sorted(years["evaluated"], reverse=True)
        self.year = self.years[0]
        items = server.get_json(f"/api/v1/results?year={self.year}&per=5")["items"]
        assert items, "the API lists no result"
        self.code = items[0]["credit_code"]
        appeals = server.get_json("/api/v1/appeals")
        appeal_list = appeals["items"] if isinstance(appeals, dict) else appeals
        assert appeal_list, "the demo city has no appeal"
        self.appeal_id = appeal_list[0]["id"]
        parcels = server.get_json(f"/api/v1/map/parcels?year={self.year}")["features"]
        assert parcels, "the demo city has no parcel"
        self.parcel_id = parcels[0]["properties"]["id"]
        assert server.survey_ids, "conftest filed no survey"
        self.survey_id = server.survey_ids[0]
        cases = server.get_json("/api/v1/cases?per=5")
        assert cases, "the demo city has no case"
        self.case_id = cases[0]["id"]
        bulletins = server.get_json("/api/v1/bulletins")
        assert bulletins, "the demo city has no issued bulletin"
        self.bulletin_id = bulletins[0]["id"]
        meetings = server.get_json("/api/v1/meetings")
        assert meetings, "the demo city has no meeting"
        self.meeting_id = meetings[0]["id"]
        # the demo's one pending request (a test that decides it leaves its id: remembered)
        pending = server.get_json("/api/v1/extension-requests")
        if pending:
            KNOWN["extension_id"] = pending[0]["id"]
        assert "extension_id" in KNOWN, "the demo city has no extension request awaiting a decision"
        self.extension_id = KNOWN["extension_id"]
        projects = server.get_json("/api/v1/projects")
        assert projects, "the demo city has no project"
        self.project_id = projects[0]["id"]
        project_bulletins = server.get_json("/api/v1/projects/bulletins")
        assert project_bulletins, "the demo city has no issued project bulletin"
        self.project_bulletin_id = project_bulletins[0]["id"]
        challenges = server.get_json("/api/v1/challenges")
        assert challenges, "the demo city has no challenge"
        self.challenge_id = challenges[0]["id"]
        applications = server.get_json(f"/api/v1/challenges/{self.challenge_id}")["applications"]
        assert applications, "the demo's newest challenge has no application"
        self.application_id = applications[0]["id"]
        quota = server.get_json("/api/v1/quota/projects")
        assert quota, "the demo city has no consolidation project (全域土地综合整治)"
        self.quota_project_id = quota[0]["id"]
        transfers = server.get_json(f"/api/v1/quota/projects/{self.quota_project_id}/transfers")
        assert transfers, "the demo's consolidation project has no transfer request"
        self.quota_transfer_id = transfers[0]["id"]
        subprojects = server.get_json(f"/api/v1/quota/projects/{self.quota_project_id}/subprojects")
        assert subprojects, "the demo's consolidation project has no sub-project"
        self.quota_subproject_id = subprojects[0]["id"]

    def path_value(self, path: str, name: str) -> str:
        if name == "code":
            return self.code
        if name == "id":
            for prefix, value in (("/api/v1/appeals/", self.appeal_id), ("/api/v1/parcels/", self.parcel_id),
                                  ("/api/v1/surveys/", self.survey_id), ("/api/v1/cases/", self.case_id),
                                  ("/cases/bulletins/", self.bulletin_id), ("/api/v1/meetings/", self.meeting_id),
                                  ("/api/v1/extension-requests/", self.extension_id),
                                  ("/projects/bulletins/", self.project_bulletin_id), ("/api/v1/projects/bulletins/", self.project_bulletin_id),
                                  ("/api/v1/projects/", self.project_id), ("/api/v1/challenges/", self.challenge_id),
                                  ("/api/v1/reviews/", self.application_id),
                                  ("/api/v1/quota/projects/", self.quota_project_id), ("/api/v1/quota/transfers/", self.quota_transfer_id),
                                  ("/api/v1/quota/subprojects/", self.quota_subproject_id),
                                  ("/quota/transfers/", self.quota_transfer_id), ("/quota/subprojects/", self.quota_subproject_id),
                                  ("/quota/", self.quota_project_id)):
                if path.startswith(prefix):
                    return str(value)
        pytest.fail(f"no valid value known for the path parameter {{{name}}} of {path}: add one to "
                    f"ValidValues.path_value in tests/api/test_openapi.py")

    def query_value(self, path: str, param: dict) -> Any:
        name, schema = param["name"], param.get("schema", {})
        known = {"year": self.year, "q": self.parcel_id, "town": HOME_TOWN}
        if name in known:
            return known[name]
        for key in ("example", "default"):
            if key in param:
                return param[key]
            if key in schema:
                return schema[key]
        if schema.get("enum"):
            return schema["enum"][0]
        pytest.fail(f"no valid value known for the required query parameter {name} of {path}: add one to "
                    f"ValidValues.query_value in tests/api/test_openapi.py")


def resolve(doc: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"external $ref {ref}"
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def minimal_instance(doc: dict, schema: dict) -> Any:
    """The smallest value a JSON schema accepts (its example when it has one)."""
    schema = resolve(doc, schema)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    if "allOf" in schema:
        out: dict = {}
        for part in schema["allOf"]:
            value = minimal_instance(doc, part)
            if isinstance(value, dict):
                out.update(value)
        return out
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return minimal_instance(doc, schema[key][0])
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(doc, props.get(name, {})) for name in schema.get("required", [])}
    return {"string": "x", "integer": schema.get("minimum", 1), "number": schema.get("minimum", 1),
            "boolean": True, "array": []}.get(kind, "x")


def request_for(doc: dict, values: ValidValues, method: str, path: str, op: dict,
                year: int | None = None) -> tuple[str, bytes | None, str | None]:
    params = [resolve(doc, p) for p in doc["paths"][path].get("parameters", []) + op.get("parameters", [])]
    url = path
    for p in params:
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", urllib.parse.quote(values.path_value(path, p["name"]), safe=""))
    query = {p["name"]: values.query_value(path, p) for p in params if p["in"] == "query" and p.get("required")}
    if any(p["in"] == "query" and p["name"] == "year" for p in params):
        query["year"] = year or values.year
    if query:
        url += "?" + urllib.parse.urlencode(query)
    body = content_type = None
    rb = resolve(doc, op.get("requestBody", {}))
    if rb.get("content"):
        content_type, media = next(iter(rb["content"].items()))
        if content_type.endswith("json"):
            body = json.dumps(minimal_instance(doc, media.get("schema", {}))).encode()
        else:
            body = b""
    return url, body, content_type


def test_every_documented_operation_answers(server: LiveServer, doc: dict) -> None:
    """With valid parameters no documented operation is unknown to the server (404/405) or
    leaves it without an answer. An operation with a year is asked for each evaluated year,
    newest first, until one answers (the credit list, say, has only the published years)."""
    values = ValidValues(server)
    wrong, tried = [], []
    for method, path, op in operations(doc):
        for year in values.years:
            url, body, content_type = request_for(doc, values, method, path, op, year)
            try:
                a = server.request(method, url, body=body, content_type=content_type, timeout=120)
            except OSError as e:  # no answer at all: the server may have died
                a = None
                wrong.append(f"{method} {url}: no answer ({e})")
                crash = server.ensure_up(f"{method} {url}")
                if crash:
                    wrong.append("    " + crash.describe().replace("\n", "\n    "))
                break
            if a.status not in (404, 405) or "year=" not in url:
                break
        if a is None:
            continue
        tried.append(f"{method} {url} -> {a.status}")
        if a.status in (404, 405):
            wrong.append(f"{method} {url} -> {a.status}: {a.text(300)}")
    assert tried, "no documented operation was tried"
    assert not wrong, (f"{len(wrong)} documented operations do not answer:\n" + "\n".join(wrong)
                       + "\n(all answers: " + "; ".join(tried) + ")")


# ------------------------------------------------------------------ registered routes are documented
@pytest.fixture(scope="module")
def registered() -> set[tuple[str, str]]:
    table = REPO / "docs" / "SECURITY.md"
    json_routes = {(m, p) for m, p in routes.from_security_md(table) if is_json_route(p)}
    assert len(json_routes) >= 10, (f"only {len(json_routes)} JSON routes in the route table of {table}: "
                                    f"{sorted(json_routes)}; are its rows still | `METHOD /path` | … |?")
    return json_routes


def test_every_documented_api_operation_is_registered(doc: dict, registered: set[tuple[str, str]]) -> None:
    """The other direction: a documented operation missing from the route table is gone from the
    server (test_every_documented_operation_answers then fails too) or the table is stale."""
    missing = sorted((m, p) for m, p, _ in operations(doc) if is_json_route(p) and (m, p) not in registered)
    assert not missing, f"documented operations not in the route table of docs/SECURITY.md: {missing}"


def test_every_registered_json_route_is_documented(doc: dict, registered: set[tuple[str, str]]) -> None:
    documented = {(m, p) for m, p, _ in operations(doc)}
    undocumented = sorted(registered - documented)
    assert not undocumented, (f"{len(undocumented)} registered JSON routes are not in /openapi.json:\n"
                              + "\n".join(f"{m} {p}" for m, p in undocumented))


def signature(a) -> tuple:
    """What tells two answers apart: the status and the body (JSON compared as data, since the
    server's key order varies; an HTML page by its <title>)."""
    ctype = a.headers.get("content-type", "").split(";")[0]
    if ctype.endswith("json"):
        try:
            return a.status, ctype, json.dumps(a.json(), sort_keys=True)
        except ValueError:
            pass
    if ctype == "text/html":
        m = re.search(rb"<title>(.*?)</title>", a.body, re.S)
        return a.status, ctype, m.group(1) if m else a.body[:200]
    return a.status, ctype, a.body


def test_no_undocumented_method_answers_on_a_documented_path(server: LiveServer, doc: dict) -> None:
    """Every method the doc does not list for a path is tried: it must be refused as a method
    the path does not take, with 405, or with the 404 the same URL gets for PROPFIND (a method
    no route has; the error's form, JSON or a page, depends on the path)."""
    values = ValidValues(server)
    answering, tried = [], 0
    for path, item in doc["paths"].items():
        documented = {m.upper() for m in item if m in HTTP_METHODS}
        any_op = next(iter(op for m, op in item.items() if m in HTTP_METHODS))
        url, _, _ = request_for(doc, values, next(iter(documented)), path, any_op)
        nothing = server.request("PROPFIND", url)
        assert nothing.status in (404, 405), f"PROPFIND {url} -> {nothing.status}: {nothing.text()}"
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented):
            a = server.request(method, url, body=b"" if method != "GET" else None)
            tried += 1
            if a.status != 405 and signature(a) != signature(nothing):
                answering.append(f"{method} {url} -> {a.status}: {a.text(200)}")
    assert tried, "no undocumented method was tried"
    assert not answering, ("methods that answer but are not in /openapi.json:\n" + "\n".join(answering))
