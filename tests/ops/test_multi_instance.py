"""Several instances, one database (issue 12, part 1): PostgreSQL, three `mujun serve` and nginx
(scripts/multi-instance.sh, running scripts/deploy/nginx-mujun.conf), every check through nginx
or straight to another instance than the one that made the state.

Each test comes from its own loopback address (127.0.0.x), so that one test's sign-in failures
do not block another's; nginx connects to the instances from 127.0.0.3, the only trusted proxy.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import mujun_seed
from opsclient import Client

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MUJUN_BIN", str(ROOT / ".build/debug/mujun"))

HQ = ("hq", "Hq#2025demo")
ADMIN = ("admin", "Admin#2025demo")
TAX = ("tax", "Tax#2025demo")
REP = ("daibiao", "Rep#2025demo")


@pytest.fixture(scope="module")
def stack():
    """PostgreSQL with the demo city, three instances and nginx; stopped after the module."""
    work = tempfile.mkdtemp(prefix="mujun-multi-")
    os.chmod(work, 0o755)  # the postgres user reaches its cluster inside
    env = dict(os.environ, MUJUN_BIN=BIN, MUJUN_MI_DIR=work + "/stack", MUJUN_MI_INSTANCES="3",
               MUJUN_MI_ENTERPRISES="200", MUJUN_MI_PG_PORT=str(random.Random().randint(54400, 54900)))
    env.pop("DATABASE_URL", None)
    run = subprocess.run(["bash", str(ROOT / "scripts/multi-instance.sh"), "start"], env=env, capture_output=True,
                         text=True, timeout=600)
    if run.returncode != 0:
        subprocess.run(["bash", str(ROOT / "scripts/multi-instance.sh"), "stop"], env=env, timeout=120)
        pytest.fail(f"scripts/multi-instance.sh start failed:\n{run.stdout}\n{run.stderr}")
    values = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    try:
        yield {"nginx": values["NGINX_URL"], "instances": values["INSTANCE_URLS"].split(), "dir": values["DIR"],
               "database": values["DATABASE_URL"]}
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/multi-instance.sh"), "stop"], env=env, timeout=120)


def on(client: Client, base: str) -> Client:
    """The same cookies, against another address (another instance, or nginx)."""
    c = Client(base, client.source)
    c.cookies = client.cookies
    return c


def test_every_instance_answers_through_nginx_and_says_which(stack):
    c = Client(stack["nginx"], "127.0.0.4")
    seen = set()
    for _ in range(9):  # two nginx workers, each going round the three: every instance within 9
        r = c.get("/healthz")
        assert r.status == 200
        seen.add(r.header("X-Mujun-Instance"))
    assert seen == {"i1", "i2", "i3"}


def test_a_session_made_on_one_instance_works_on_every_other(stack):
    c = Client(stack["nginx"], "127.0.0.5")
    r = c.sign_in(*HQ)
    assert r.status == 303, r.text[:300]
    made_on = r.header("X-Mujun-Instance")
    assert made_on in {"i1", "i2", "i3"}
    assert "mujun_session" in c.cookies
    # through nginx: every instance knows the session
    seen = set()
    for _ in range(9):
        page = c.get("/account")
        assert page.status == 200, page.status
        assert 'id="current-user"' in page.text
        seen.add(page.header("X-Mujun-Instance"))
    assert seen == {"i1", "i2", "i3"}
    # and straight to each instance
    for base in stack["instances"]:
        page = on(c, base).get("/account")
        assert page.status == 200 and 'id="current-user"' in page.text, base
    # signing out on one instance ends the session on all
    token = c.csrf()
    out = on(c, stack["instances"][0]).post("/logout", form={"_csrf": token})
    assert out.status in (302, 303)
    for base in stack["instances"]:
        r = on(c, base).get("/account")
        assert r.status in (302, 303) and "/login" in (r.header("Location") or ""), (base, r.status)


def test_a_csrf_token_and_a_calendar_year_made_on_one_instance_count_on_the_others(stack):
    i1, i2, i3 = stack["instances"]
    admin = Client(i1, "127.0.0.6")
    assert admin.sign_in(*ADMIN).status == 303
    year = dt.date.today().year + 1
    # a Tuesday in March: a holiday in no real arrangement, so the page marks it only once added
    day = dt.date(year, 3, 1)
    while day.weekday() != 1:
        day += dt.timedelta(days=1)
    saturday = day + dt.timedelta(days=4)
    marker = f'class="day holiday" data-date="{day.isoformat()}"'
    # every instance has read the calendar before the change (what an instance caches is what could go stale)
    for base in (i1, i2, i3):
        page = on(admin, base).get(f"/calendar?year={year}")
        assert page.status == 200
        assert f'data-date="{day.isoformat()}"' in page.text and marker not in page.text, base
    token = admin.csrf()  # from instance 1
    # instance 3 refuses the form without the token, and nothing changes
    refused = on(admin, i3).post("/calendar/years", form={"year": str(year), "holidays": f"{year}-01-01\n{day.isoformat()}",
                                                            "workdays": saturday.isoformat()})
    assert refused.status == 403
    for base in (i1, i2, i3):
        assert marker not in on(admin, base).get(f"/calendar?year={year}").text
    # instance 2 takes it with the token instance 1 gave
    ok = on(admin, i2).post("/calendar/years", form={"year": str(year), "holidays": f"{year}-01-01\n{day.isoformat()}",
                                                       "workdays": saturday.isoformat(), "_csrf": token})
    assert ok.status == 200, ok.text[:500]
    assert "已保存" in ok.text
    # the next request to every instance shows it
    for base in (i1, i3, i2):
        page = on(admin, base).get(f"/calendar?year={year}")
        assert marker in page.text, f"{base} does not show {day} as a holiday"
        assert f'class="day makeup" data-date="{saturday.isoformat()}"' in page.text


def test_sign_in_failures_from_one_address_count_on_every_instance(stack):
    rng = mujun_seed.rng("multi-instance sign-in failures")
    c = Client(stack["nginx"], "127.0.0.7")
    seen = set()
    for i in range(20):
        # unknown names, each its own: only the address's count can block
        r = c.sign_in(f"nobody-{rng.randrange(10**9)}-{i}", "wrong")
        assert r.status == 401, (i, r.status)
        seen.add(r.header("X-Mujun-Instance"))
    assert len(seen) == 3, f"the failures went to {seen} only"
    # the 21st, with the right password, is refused by whichever instance gets it
    for _ in range(3):
        r = c.sign_in(*HQ)
        assert r.status == 429, r.status
        assert "登录失败次数过多" in r.text
    # another address is not blocked
    assert Client(stack["nginx"], "127.0.0.8").sign_in(*HQ).status == 303


def test_a_spoofed_x_forwarded_for_does_not_escape_the_limit(stack):
    c = Client(stack["nginx"], "127.0.0.9")
    for i in range(20):
        page = c.get("/login", headers={"X-Forwarded-For": f"10.9.0.{i}"})
        token = page.text.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
        r = c.post("/login", form={"login": f"ghost-{i}", "password": "wrong", "_csrf": token},
                   headers={"X-Forwarded-For": f"10.9.0.{i}"})
        assert r.status == 401, (i, r.status)
    page = c.get("/login", headers={"X-Forwarded-For": "10.9.0.99"})
    token = page.text.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    r = c.post("/login", form={"login": HQ[0], "password": HQ[1], "_csrf": token}, headers={"X-Forwarded-For": "10.9.0.99"})
    assert r.status == 429, "a client that writes its own X-Forwarded-For got round the limit"


def test_an_account_locked_on_one_instance_is_locked_on_all(stack):
    c = Client(stack["nginx"], "127.0.0.10")
    seen = set()
    for i in range(5):
        r = c.sign_in(REP[0], "wrong-password")
        seen.add(r.header("X-Mujun-Instance"))
        assert r.status in (401, 429), r.status
    assert len(seen) >= 2
    for base in stack["instances"]:
        r = Client(base, "127.0.0.10").sign_in(*REP)
        assert r.status == 429 and "账户已临时锁定" in r.text, base


def test_a_file_uploaded_to_one_instance_is_read_from_the_others(stack):
    i1, i2, i3 = stack["instances"]
    tax = Client(i1, "127.0.0.11")
    assert tax.sign_in(*TAX).status == 303
    inbox = tax.get("/api/v1/cases/inbox").json()
    case = next(c for group in ("in_progress", "overdue", "follow_up") for c in inbox.get(group, [])
                if c["state"] in ("accepted", "in_progress", "replied", "evaluated"))
    # a PNG as far as the type check reads (its signature), then random bytes
    data = b"\x89PNG\r\n\x1a\n" + mujun_seed.rng("multi-instance upload").randbytes(50_000)
    token = tax.csrf()
    r = on(tax, i2).post(f"/api/v1/cases/{case['id']}/notes", form={"kind": "report", "text": "已到现场报到"},
                         files={"attachment": ("报到照片.png", data)}, headers={"X-CSRF-Token": token})
    assert r.status == 201, r.text[:500]
    made = [a for a in r.json()["attachments"] if a["sha256"] == hashlib.sha256(data).hexdigest()]
    assert len(made) == 1
    for base in (i3, i1, stack["nginx"]):
        got = on(tax, base).get(made[0]["url"])
        assert got.status == 200, base
        assert got.body == data, f"{base} served other bytes"


def test_metrics_from_the_allowed_address_only_and_a_request_id_on_every_answer(stack):
    allowed, other = Client(stack["nginx"], "127.0.0.12"), Client(stack["nginx"], "127.0.0.13")
    seen = {}
    for _ in range(9):
        r = allowed.get("/metrics")
        assert r.status == 200, r.status
        assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
        assert "# TYPE mujun_http_requests_total counter" in r.text
        seen[r.header("X-Mujun-Instance")] = r.text
        assert r.header("X-Request-Id")
    assert set(seen) == {"i1", "i2", "i3"}
    for name, text in seen.items():
        assert f'mujun_instance_info{{instance="{name}"}} 1' in text
        assert "mujun_db_up 1" in text
    # another address, even one that writes the allowed one into X-Forwarded-For
    assert other.get("/metrics").status == 401
    assert other.get("/metrics", headers={"X-Forwarded-For": "127.0.0.12"}).status == 401
    # a request id a client makes up is not taken: nginx's (32 hex digits) replaces it
    r = other.get("/healthz", headers={"X-Request-Id": "made-up-by-the-client"})
    rid = r.header("X-Request-Id") or ""
    assert r.status == 200 and len(rid) == 32 and all(ch in "0123456789abcdef" for ch in rid), rid
    # straight to an instance (not a trusted proxy), the client's id is not believed either
    r = Client(stack["instances"][0], "127.0.0.13").get("/healthz", headers={"X-Request-Id": "made-up-by-the-client"})
    assert r.status == 200 and r.header("X-Request-Id") not in (None, "", "made-up-by-the-client")


def test_every_job_runs_once_per_period_whoever_asks_at_once(stack, tmp_path):
    """Six `mujun jobs run-due` at once (cron on six hosts), beside the three instances' own schedulers."""
    at = "2031-03-04T08:00:00+08:00"  # a morning no scheduler reaches by itself
    backups = tmp_path / "backups"
    env = dict(os.environ, DATABASE_URL=stack["database"], MUJUN_BACKUP_DIR=str(backups))
    procs = [subprocess.Popen([BIN, "jobs", "run-due", "--at", at, "--instance", f"cron{i}"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(6)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    # the jobs due by 08:00: the daily ones of the day, and the month's bulletin draft
    lines = [l for o in outs for l in o[0].splitlines() if " 2031-03-04（" in l or " 2031-03（" in l]
    daily = ("daily-backup", "daily-digest", "deadline-reminders", "projects-check")
    for job in daily + ("bulletin-draft",):
        ran = [l for l in lines if l.startswith(job + " ")]
        assert len(ran) == 1, (job, lines)
        assert "第 1 次" in ran[0] and "完成" in ran[0], ran[0]
    rows = subprocess.run(["psql", stack["database"], "-At", "-F", "|", "-c",
                           "SELECT job, state, attempts FROM job_runs WHERE period IN ('2031-03-04', '2031-03') ORDER BY job"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert rows == sorted(f"{j}|succeeded|1" for j in daily + ("bulletin-draft",)), rows
    # the backup was made once, and the digest wrote one message per unit with work
    assert len([p for p in backups.iterdir() if p.suffix == ".dump"]) == 1
    digest = next(l for l in lines if l.startswith("daily-digest "))
    units = int(digest.split("，")[1].split(" 个单位")[0])
    queued = int(subprocess.run(["psql", stack["database"], "-At", "-c",
                                 "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:2031-03-04:%'"],
                                capture_output=True, text=True, check=True).stdout)
    assert units > 0 and queued == units, (units, queued)


def test_postgresql_restarted_under_load_fails_fast_with_503_then_recovers_alone(stack):
    c = Client(stack["nginx"], "127.0.0.14")
    assert c.sign_in(*HQ).status == 303
    assert c.get("/ranking").status == 200
    env = dict(os.environ, MUJUN_PG_DIR=stack["dir"] + "/pg")
    subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "pause"], env=env, check=True, timeout=120)
    try:
        for _ in range(6):
            t = time.perf_counter()
            r = c.get("/ranking", timeout=30)
            took = time.perf_counter() - t
            assert r.status == 503, (r.status, r.text[:300])
            assert "数据库暂时不可用" in r.text
            assert took < 5, f"a request waited {took:.1f} s for a database that is down"
        assert c.get("/healthz").status == 503
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/pg-test-cluster.sh"), "resume"], env=env, check=True, timeout=120)
    # every instance serves again, none restarted
    for base in stack["instances"]:
        deadline = time.time() + 30
        while True:
            r = on(c, base).get("/ranking")
            if r.status == 200 or time.time() > deadline:
                break
            time.sleep(0.5)
        assert r.status == 200, (base, r.status)
