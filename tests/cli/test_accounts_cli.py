"""The command line manages accounts, tokens and the demo without a web server, and what it
does is what the server then honours; `mujun serve` started from another folder still serves
its CSS and JS, and refuses to start when it cannot find them.

The binary is `.build/debug/mujun` (build it with `swift build`), or env MUJUN_BIN.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("MUJUN_BIN", REPO / ".build" / "debug" / "mujun"))


def mujun(db: Path, *args: str, cwd: Path, extra_env: dict[str, str] | None = None,
          timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite://{db}"
    env["MUJUN_SECRET"] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    env.pop("MUJUN_PUBLIC_DIR", None)
    env.update(extra_env or {})
    return subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env)


def ok(proc: subprocess.CompletedProcess, what: str) -> str:
    assert proc.returncode == 0, f"{what}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture()
def elsewhere(tmp_path: Path) -> Path:
    """A working folder with no Public/ in it or above it: not the checkout."""
    d = tmp_path / "elsewhere"
    d.mkdir()
    assert not (d / "Public").exists()
    return d


def test_user_add_token_list_and_their_audit_without_a_server(tmp_path: Path, elsewhere: Path) -> None:
    db = tmp_path / "accounts.sqlite"
    t0 = time.monotonic()
    out = ok(mujun(db, "user", "add", "li", "--name", "李四", "--role", "town", "--unit", "古山镇人民政府",
                   "--town", "古山镇", cwd=elsewhere), "user add")
    assert "li" in out and "初始密码" in out, out
    token = ok(mujun(db, "user", "token", "li", "--name", "QGIS", cwd=elsewhere), "user token").strip().splitlines()[-1]
    assert token.startswith("mj_") and len(token) > 30, token
    listing = ok(mujun(db, "user", "list", cwd=elsewhere), "user list")
    assert "li" in listing and "古山镇" in listing, listing
    # none of them started a web server (they would print Vapor's start-up line and not return)
    assert time.monotonic() - t0 < 120
    # refused input: a second li, an unknown town — non-zero, a message, nothing written
    again = mujun(db, "user", "add", "li", "--name", "x", "--role", "town", "--town", "古山镇", cwd=elsewhere)
    assert again.returncode != 0 and "已存在" in again.stderr, again.stderr
    unknown = mujun(db, "user", "add", "x2", "--role", "town", "--town", "不存在镇", cwd=elsewhere)
    assert unknown.returncode != 0 and "镇街" in unknown.stderr, unknown.stderr
    with sqlite3.connect(db) as c:
        users = [r[0] for r in c.execute("SELECT login FROM users ORDER BY login")]
        audit = c.execute("SELECT actor, action, target FROM audit_log ORDER BY id").fetchall()
        hashes = [r[0] for r in c.execute("SELECT password_hash FROM users")]
    assert users == ["li"], users
    assert ("cli", "user.create", "li") in audit and ("cli", "token.create", "li") in audit, audit
    assert all(h.startswith("$2b$") for h in hashes), "passwords are stored as bcrypt hashes"
    assert not any(token in str(row) for row in audit), "the token itself is never stored"


def test_demo_then_serve_from_another_folder_with_a_cli_token(tmp_path: Path, elsewhere: Path) -> None:
    db = tmp_path / "demo.sqlite"
    out = ok(mujun(db, "demo", "--enterprises", "150", "--seed", "3", cwd=elsewhere), "demo")
    assert "admin" in out and "qiye" in out, f"the demo prints its logins:\n{out}"
    token = ok(mujun(db, "user", "token", "gushan", "--name", "cli-test", cwd=elsewhere), "user token").strip().splitlines()[-1]

    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}",
               MUJUN_SECRET="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    env.pop("MUJUN_PUBLIC_DIR", None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(BIN), "serve", "--hostname", "127.0.0.1", "--port", str(port)], cwd=elsewhere,
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"mujun serve exited {proc.returncode}:\n{(tmp_path / 'serve.log').read_text()}")
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("mujun serve did not answer /healthz")
        status, css = get(base + "/static/mujun.css")
        assert status == 200 and b".card" in css, f"CSS from another folder: {status}"
        status, js = get(base + "/static/map.js")
        assert status == 200 and b"function" in js, f"JS from another folder: {status}"
        assert get(base + "/static/no-such-file.css")[0] == 404
        # the token the command line issued works on the server, within its user's town
        status, body = get(base + "/api/v1/results?year=2025&per=200", token)
        assert status == 200, body[:300]
        towns = {item["town"] for item in json.loads(body)["items"]}
        assert towns == {"古山镇"}, towns
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_refuses_to_start_without_its_static_files(tmp_path: Path, elsewhere: Path) -> None:
    # a copy of the binary in a folder with no Public/ beside it or above it, started from
    # another such folder, with MUJUN_PUBLIC_DIR naming a folder that does not hold mujun.css
    lone = tmp_path / "bin" / "mujun"
    lone.parent.mkdir()
    lone.write_bytes(BIN.read_bytes())
    lone.chmod(0o755)
    env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp_path / 'empty.sqlite'}", MUJUN_PUBLIC_DIR=str(tmp_path / "no-such-folder"),
               MUJUN_SECRET="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    refused = subprocess.run([str(lone), "serve", "--hostname", "127.0.0.1", "--port", str(free_port())], cwd=elsewhere,
                             env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0, f"serve started without CSS and JS:\n{out}"
    assert "MUJUN_PUBLIC_DIR" in out and "Public/" in out, out
    # and given the folder, the same copy starts
    env["MUJUN_PUBLIC_DIR"] = str(REPO / "Public")
    port = free_port()
    proc = subprocess.Popen([str(lone), "serve", "--hostname", "127.0.0.1", "--port", str(port)], cwd=elsewhere, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        for _ in range(300):
            assert proc.poll() is None, f"serve exited {proc.returncode} with MUJUN_PUBLIC_DIR set"
            try:
                status, css = get(f"http://127.0.0.1:{port}/static/mujun.css")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("serve with MUJUN_PUBLIC_DIR did not answer")
        assert status == 200 and b".card" in css
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_refuses_a_rules_file_with_a_bad_land_section(tmp_path: Path) -> None:
    """A wrong `land:` section stops the start with the reason, as `mujun rules check` reports it,
    instead of the pages quietly using the default thresholds."""
    shown = subprocess.run([str(BIN), "rules", "show"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    rules = tmp_path / "rules.yaml"
    rules.write_text(shown.stdout.rstrip() + "\nland:\n  cluster_gap: -5\n", encoding="utf-8")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp_path / 'db.sqlite'}", MUJUN_RULES=str(rules),
               MUJUN_SECRET="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    proc = subprocess.run([str(BIN), "serve", "--hostname", "127.0.0.1", "--port", str(free_port())], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0, "mujun serve started with land.cluster_gap = -5"
    assert "land.cluster_gap" in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]
