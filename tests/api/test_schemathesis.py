"""schemathesis against the live /api/v1, as the admin (Authorization: Bearer <token>).

One test per documented /api/v1 operation (its examples, coverage and fuzzing phases), then
one stateful test over all of them (following the document's links). The operations the admin
may not call (it only ever gets 403) are fuzzed a second time as the demo user whose role may
(ROLE_RUNS), so that their successful answers are checked too. Each test fails on any of

    not_a_server_error  response_schema_conformance  status_code_conformance  content_type_conformance

(MUJUN_API_CHECKS changes the list), printing every distinct problem with a request to repeat
it; a server that exits during an operation is a failure of that operation, and the next one
gets a new server, so one crash does not hide what the other operations do.

Bounded and reproducible:
    MUJUN_TEST_SEED            schemathesis's --seed (printed at the end of the run)
    MUJUN_API_MAX_EXAMPLES     fuzzed cases per operation (--max-examples, default 25)
    MUJUN_API_STATEFUL_SECONDS the stateful phase's time (--max-time, default 40; 0 skips it)
    MUJUN_API_BUDGET           seconds for all the per-operation runs (default 300): an operation
                               reached after that fails, saying so, instead of running
    MUJUN_API_SHRINK=1         shrink failing cases (slower; off by default)
Each run's output and NDJSON report go to the report directory (conftest.report_dir(), printed),
with findings.md: every distinct problem of the whole leg.

The generator is fed the demo city's real values (years, credit codes, towns, appeal, parcel and
survey ids) part of the time, so that the operations reach their data rather than answer 404
to everything, and integer boundaries (0, -1, 2^31, 2^53+1, 2e17, 2^63-1) so that overflows show.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import time
from pathlib import Path

import pytest

import findings as fnd
from conftest import LiveServer, live_server, report_dir
from mujun_seed import ENV as SEED_ENV, SEED

CHECKS = os.environ.get("MUJUN_API_CHECKS", "not_a_server_error,response_schema_conformance,"
                        "status_code_conformance,content_type_conformance")
MAX_EXAMPLES = int(os.environ.get("MUJUN_API_MAX_EXAMPLES", "25"))
STATEFUL_SECONDS = int(os.environ.get("MUJUN_API_STATEFUL_SECONDS", "40"))
BUDGET = float(os.environ.get("MUJUN_API_BUDGET", "300"))
SHRINK = os.environ.get("MUJUN_API_SHRINK") == "1"
# integer boundaries: 32-bit, the largest exact double, and values whose product with a page
# size overflows 64 bits
EDGE_INTEGERS = [0, -1, 2147483648, -2147483649, 9007199254740993, 200000000000000000,
                 4611686018427387904, 9223372036854775807, -9223372036854775808]

# operation -> the demo user who may call it, for the operations the admin may not
ROLE_RUNS = {
    "POST /api/v1/appeals": "qiye",                    # an enterprise files an appeal (in publicity)
    "POST /api/v1/appeals/{id}/rate": "qiye",          # and rates the reply to its own appeal
    "POST /api/v1/parcels/{id}/surveys": "gushan",     # a town surveys a parcel of its own town
}

ALL: list[fnd.Finding] = []          # every finding of the leg, for findings.md
CRASHES: list[str] = []
_started: float | None = None


def api_operations() -> list[tuple[str, str, str]]:
    doc = live_server().openapi()
    return [(method.upper(), path, op.get("operationId", "")) for path, item in doc.get("paths", {}).items()
            if path.startswith("/api/v1/") for method, op in item.items()
            if method in ("get", "post", "put", "patch", "delete")]


def pytest_generate_tests(metafunc) -> None:
    if "operation" in metafunc.fixturenames:
        ops = api_operations()
        metafunc.parametrize("operation", ops, ids=[f"{m} {p}" for m, p, _ in ops])
    if "role_run" in metafunc.fixturenames:
        runs = sorted(ROLE_RUNS.items())
        metafunc.parametrize("role_run", runs, ids=[f"{op} as {user}" for op, user in runs])


# ------------------------------------------------------------------ configuration
def toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def binding(name: str, probability: float) -> dict:
    return {"dictionary": name, "probability": probability}


@pytest.fixture(scope="module")
def config_file(server: LiveServer) -> Path:
    """schemathesis.toml with the demo city's values (read from the API before any fuzzing)."""
    server.restart_fresh()  # what test_openapi.py changed is gone
    years = sorted(server.get_json("/api/v1/years")["evaluated"])
    items = []
    for group in ("above", "below"):
        items += server.get_json(f"/api/v1/results?year={years[-1]}&group={group}&per=8")["items"]
    appeals = server.get_json("/api/v1/appeals")
    appeals = appeals["items"] if isinstance(appeals, dict) else appeals
    parcels = server.get_json(f"/api/v1/map/parcels?year={years[-1]}")["features"]
    # and low-efficiency parcels of the town user's own town, which it may survey
    town_parcels = [f for f in server.get_json(f"/api/v1/map/parcels?year={years[-1]}", token=server.town_token)["features"]
                    if f["properties"].get("low")]
    values = {
        "years": years,
        "codes": sorted({i["credit_code"] for i in items}),
        "towns": sorted({i["town"] for i in items}),
        "appeal_ids": [a["id"] for a in appeals],
        "parcel_ids": [f["properties"]["id"] for f in parcels[:4] + town_parcels[:6]],
        "survey_ids": server.survey_ids,
        "edge_integers": EDGE_INTEGERS,
    }
    empty = [k for k, v in values.items() if not v]
    assert not empty, f"the demo city gave no values for {empty}"
    lines = [
        "# written by tests/api/test_schemathesis.py for one run",
        "request-timeout = 20",
        # no state carried from one run to the next (schemathesis would replay earlier failures)
        "[cache]",
        "enabled = false",
        "[generation]",
        'database = "none"',
        "with-security-parameters = false",
        f"no-shrink = {'false' if SHRINK else 'true'}",
        f"dictionaries.integer = {toml_value(binding('edge_integers', 0.2))}",
        "[parameters]",
        f'"query.page" = {toml_value(binding("edge_integers", 0.3))}',
        f'"query.per" = {toml_value(binding("edge_integers", 0.3))}',
        f'"query.limit" = {toml_value(binding("edge_integers", 0.3))}',
        f'"query.year" = {toml_value(binding("years", 0.5))}',
        f'"path.code" = {toml_value(binding("codes", 0.7))}',
        f'"query.town" = {toml_value(binding("towns", 0.4))}',
    ]
    for name, vals in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {toml_value(vals)}"]
    for prefix, dictionary in (("/api/v1/appeals/", "appeal_ids"), ("/api/v1/parcels/", "parcel_ids"),
                               ("/api/v1/surveys/", "survey_ids")):
        lines += ["[[operations]]", f"include-path-regex = {toml_value('^' + prefix)}",
                  f"parameters = {toml_value({'path.id': binding(dictionary, 0.7)})}"]
    path = server.workdir / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (server.workdir / "openapi.json").write_text(json.dumps(server.openapi(), ensure_ascii=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------ running schemathesis
def run_schemathesis(server: LiveServer, config: Path, name: str, *args: str,
                     token: str | None = None) -> tuple[int, str, Path]:
    """Runs the schemathesis CLI in this process (its start-up is paid once per leg, not per
    operation); returns (exit code, its output, the NDJSON report)."""
    from schemathesis.cli import schemathesis as cli

    reports = report_dir()
    ndjson = reports / f"{name}.ndjson"
    ndjson.unlink(missing_ok=True)
    argv = ["--config-file", str(config), "run", str(server.workdir / "openapi.json"), "--url", server.base,
            "-H", f"Authorization: Bearer {token or server.token}", "--checks", CHECKS, "--seed", str(SEED),
            "--workers", "1", "--no-color", "--report", "ndjson", "--report-ndjson-path", str(ndjson), *args]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = cli.main(args=argv, standalone_mode=False)
        except SystemExit as e:
            code = e.code
    text = out.getvalue()
    (reports / f"{name}.txt").write_text(f"schemathesis {' '.join(argv).replace(token or server.token, '$TOKEN')}"
                                         f"\n\n{text}", encoding="utf-8")
    return int(code or 0), text, ndjson


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def answer_statuses(ndjson: Path) -> set:
    statuses = set()
    if ndjson.exists():
        with open(ndjson, encoding="utf-8") as f:
            for line in f:
                if line.startswith('{"ScenarioFinished"'):
                    for inter in (json.loads(line)["ScenarioFinished"]["recorder"].get("interactions") or {}).values():
                        statuses.add((inter.get("response") or {}).get("status_code"))
    return statuses


def verdict(server: LiveServer, what: str, code: int, text: str, ndjson: Path, name: str,
            forbidden_only_is_a_problem: bool = False) -> None:
    crash = server.ensure_up(f"schemathesis on {what}")
    found = list(fnd.read(ndjson))
    # 404 also comes from the coverage phase's requests with methods the path does not have
    statuses = answer_statuses(ndjson) - {404}
    if ndjson.exists():  # kept, compressed (a few MB per operation as it is)
        with open(ndjson, "rb") as src, gzip.open(str(ndjson) + ".gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        ndjson.unlink()
    ALL.extend(found)
    groups = fnd.group(found)
    problems = []
    if crash:
        problems.append("THE SERVER CRASHED: " + crash.describe())
        CRASHES.append(crash.describe())
    if forbidden_only_is_a_problem and statuses and statuses <= {401, 403}:
        problems.append(f"every answer was {sorted(statuses)}: this user may not call {what}, so nothing but the "
                        f"refusal was checked; add the operation to ROLE_RUNS with a demo user who may")
    problems += [fnd.describe(g) for g in groups]
    if code != 0 and not problems:
        tail = "\n".join(text.strip().splitlines()[-40:])
        problems.append(f"schemathesis exited {code} without a failed check in its report; its output ends:\n{tail}")
    assert not problems, (f"{what}: {len(problems)} distinct problems (seed {SEED_ENV}={SEED}; "
                          f"output {report_dir() / (name + '.txt')}):\n\n" + "\n\n".join(problems))


def test_operation(server: LiveServer, config_file: Path, operation: tuple[str, str, str]) -> None:
    method, path, op_id = operation
    server.ensure_up(f"the start of {method} {path}")
    what = f"{method} {path}"
    fuzz_one(server, config_file, what, slug(what), token=None, forbidden_only_is_a_problem=what not in ROLE_RUNS)


def fuzz_one(server: LiveServer, config: Path, what: str, name: str, token: str | None,
             forbidden_only_is_a_problem: bool) -> None:
    global _started
    _started = _started or time.monotonic()
    spent = time.monotonic() - _started
    if spent > BUDGET:
        pytest.fail(f"not run: the per-operation runs have spent their budget ({spent:.0f} s of "
                    f"MUJUN_API_BUDGET={BUDGET:.0f} s); raise MUJUN_API_BUDGET or lower MUJUN_API_MAX_EXAMPLES")
    code, text, ndjson = run_schemathesis(
        server, config, name, "--include-name", what,
        "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES), "--continue-on-failure",
        token=token)
    assert "1 selected /" in text, f"schemathesis did not select exactly {what}:\n{text[-2000:]}"
    verdict(server, what, code, text, ndjson, name, forbidden_only_is_a_problem)


def test_operation_as_the_role_that_may_call_it(server: LiveServer, config_file: Path,
                                                role_run: tuple[str, str]) -> None:
    what, user = role_run
    assert what in {f"{m} {p}" for m, p, _ in api_operations()}, f"ROLE_RUNS names {what}, which is not documented"
    assert user in server.user_tokens, f"no API token for {user}: add it to conftest.TOKEN_USERS"
    server.ensure_up(f"the start of {what} as {user}")
    fuzz_one(server, config_file, what, slug(f"{what} as {user}"), token=server.user_tokens[user],
             forbidden_only_is_a_problem=True)


def test_stateful_sequences(server: LiveServer, config_file: Path) -> None:
    """Sequences of calls along the document's links (e.g. an appeal listed, then opened)."""
    if STATEFUL_SECONDS <= 0:
        pytest.fail("MUJUN_API_STATEFUL_SECONDS=0: the stateful phase was not run")
    server.ensure_up("the start of the stateful run")
    code, text, ndjson = run_schemathesis(
        server, config_file, "stateful", "--include-path-regex", "^/api/v1/", "--phases", "stateful",
        "--max-time", str(STATEFUL_SECONDS), "--continue-on-failure")
    verdict(server, "the stateful run", code, text, ndjson, "stateful")


# ------------------------------------------------------------------ the leg's findings
def write_findings() -> Path | None:
    if not ALL and not CRASHES:
        return None
    groups = sorted(fnd.group(ALL), key=lambda g: (g.example.operation, g.example.code, str(g.example.status)))
    path = report_dir() / "findings.md"
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# schemathesis findings ({SEED_ENV}={SEED}, {len(groups)} distinct, {len(ALL)} failed checks)\n\n")
        for g in groups:
            f.write("```\n" + fnd.describe(g) + "\n```\n\n")
        for crash in CRASHES:
            f.write("## server crash\n\n```\n" + crash + "\n```\n\n")
    return path


@pytest.fixture(scope="module", autouse=True)
def _findings_file():
    yield
    path = write_findings()
    if path:
        print(f"\nschemathesis findings: {path}")
