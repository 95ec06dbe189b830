"""Notifications that are never lost (issue 12, part 3): the morning digest goes from the outbox
to real receivers — an SMTP server (aiosmtpd) and an HTTP receiver that checks DingTalk's
signed URL (timestamp + HMAC-SHA256 of "timestamp\\nsecret") like the robot does — through
receivers that are down, answer 500, or are given the wrong secret. Every message arrives once
per channel in the end, none twice.

Time runs 200× faster for the retries (MUJUN_OUTBOX_RETRY_SCALE=0.005): the pause after a failure
is 0.15 s, 0.3 s … at most 9 s instead of 30 s … 30 min, so "down for an hour" is 18 s here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time
import urllib.parse
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from opsclient import Client, csrf_of

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("MUJUN_BIN", str(ROOT / ".build/debug/mujun"))
SECRET = "SECtest-robot-secret"
HOUR = 18  # seconds: an hour at the test's time scale


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Mailbox:
    """aiosmtpd's handler: every message received, decoded."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []  # (to, subject, message-id)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        m = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(m["Subject"])))
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, subject, m["Message-ID"]))
        return "250 OK"


class Robot:
    """A DingTalk group robot: checks the signature, answers like the real one, records the texts."""

    def __init__(self) -> None:
        self.mode = "ok"  # ok | error500
        self.secret = SECRET
        self.received: list[tuple[str, str]] = []  # (access_token, content)
        self.refused = 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                if robot.mode == "error500":
                    self.send_response(500)
                    self.end_headers()
                    return
                answer = {"errcode": 0, "errmsg": "ok"}
                token = q.get("access_token", [""])[0]
                if "sign" in q:
                    ts = q["timestamp"][0]
                    want = base64.b64encode(hmac.new(robot.secret.encode(), f"{ts}\n{robot.secret}".encode(), hashlib.sha256).digest()).decode()
                    if q["sign"][0] != want or abs(int(ts) - time.time() * 1000) > 3_600_000:
                        answer = {"errcode": 310000, "errmsg": "sign not match"}
                if answer["errcode"] == 0:
                    payload = json.loads(body)
                    assert payload["msgtype"] == "text"
                    robot.received.append((token, payload["text"]["content"]))
                else:
                    robot.refused += 1
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def wait_until(what: str, check, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def world(tmp_path):
    url = f"sqlite://{tmp_path}/notify.sqlite"
    env = dict(os.environ, DATABASE_URL=url)
    r = subprocess.run([BIN, "demo", "--enterprises", "120", "--seed", "5", "--years", "2025"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    mailbox = Mailbox()
    smtp_port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    robot = Robot()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                              env=dict(env, MUJUN_JOBS="off", MUJUN_OUTBOX_EVERY="0.3", MUJUN_OUTBOX_RETRY_SCALE="0.005",
                                       MUJUN_SMTP_HOST="127.0.0.1", MUJUN_SMTP_PORT=str(smtp_port), MUJUN_SMTP_FROM="mujun@yk.test"),
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_until("mujun serve", lambda: _up(base), timeout=60)
    admin = Client(base)
    assert admin.sign_in("admin", "Admin#2025demo").status == 303
    try:
        yield {"url": url, "env": env, "admin": admin, "mailbox": mailbox, "smtp": smtp, "smtp_port": smtp_port, "robot": robot,
               "tmp": tmp_path}
    finally:
        server.kill()
        server.wait()
        robot.close()
        try:
            smtp.stop()
        except Exception:
            pass


def _up(base: str) -> bool:
    try:
        return Client(base).get("/healthz", timeout=2).status == 200
    except OSError:
        return False


def set_target(admin: Client, unit: str, email: str = "", webhook: str = "", secret: str = "") -> None:
    token = csrf_of(admin.get("/admin/jobs").text)
    r = admin.post("/admin/notify-targets", form={"unit": unit, "email": email, "webhook_url": webhook, "webhook_secret": secret, "_csrf": token})
    assert r.status in (302, 303), r.text[:500]


def run_digest(world, day: str) -> int:
    r = subprocess.run([BIN, "jobs", "run-due", "--only", "daily-digest", "--at", f"{day}T08:00:00+08:00"], env=world["env"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split("，")[1].split(" 个单位")[0])


def outbox(world, sql: str) -> list[tuple]:
    import sqlite3
    with sqlite3.connect(world["url"][len("sqlite://"):]) as c:
        return list(c.execute(sql))


def test_the_digest_reaches_every_channel_once_through_a_down_robot_a_wrong_secret_and_a_stopped_mail_server(world):
    admin, mailbox, robot = world["admin"], world["mailbox"], world["robot"]
    page = admin.get("/admin/jobs").text
    units = [u for u in page.split('id="target-unit"', 1)[1].split("</select>", 1)[0].split('value="')[1:]]
    units = [u.split('"', 1)[0] for u in units]
    assert len(units) >= 6, units
    hook = f"http://127.0.0.1:{robot.port}/robot/send?access_token="
    email_units, robot_units = set(), set()
    for i, u in enumerate(units):
        if i % 3 == 0:
            set_target(admin, u, email=f"unit{i}@yk.test")
            email_units.add(u)
        elif i % 3 == 1:
            set_target(admin, u, webhook=hook + f"T{i}", secret=SECRET)
            robot_units.add(u)
        else:  # both channels
            set_target(admin, u, email=f"unit{i}@yk.test", webhook=hook + f"T{i}", secret=SECRET)
            email_units.add(u)
            robot_units.add(u)
    token_of = {u: f"T{i}" for i, u in enumerate(units)}
    mail_of = {u: f"unit{i}@yk.test" for i, u in enumerate(units)}

    # 1. all receivers up: every message by every channel of its unit, once
    day1 = "2031-05-06"
    n = run_digest(world, day1)
    assert n >= 3
    recipients = [r[0] for r in outbox(world, f"SELECT recipient FROM outbox WHERE dedupe_key LIKE 'digest:{day1}:%'")]
    assert len(recipients) == n
    wait_until("the first digest sent", lambda: outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:{day1}:%' AND state = 'sent'")[0][0] == n)
    mails = [m for m in mailbox.messages if day1 in m[1]]
    hooks = [h for h in robot.received if day1 in h[1]]
    assert sorted(m[0] for m in mails) == sorted(mail_of[u] for u in recipients if u in email_units)
    assert sorted(h[0] for h in hooks) == sorted(token_of[u] for u in recipients if u in robot_units)
    assert all(m[1].startswith("【亩均督办】") for m in mails)

    # 2. the robot answers 500 for "an hour", the mail server is fine: mail goes, the robot's wait
    robot.mode = "error500"
    day2 = "2031-05-07"
    n2 = run_digest(world, day2)
    recipients2 = [r[0] for r in outbox(world, f"SELECT recipient FROM outbox WHERE dedupe_key LIKE 'digest:{day2}:%'")]
    expect_mail2 = sorted(mail_of[u] for u in recipients2 if u in email_units)
    wait_until("the mail of the second digest", lambda: sorted(m[0] for m in mailbox.messages if day2 in m[1]) == expect_mail2)
    wait_until("the robot's failures recorded", lambda: any("HTTP 500" in (r[0] or "") for r in outbox(world, f"SELECT last_error FROM outbox WHERE dedupe_key LIKE 'digest:{day2}:%'")))
    page = admin.get("/admin/jobs").text
    assert "钉钉接口返回 HTTP 500" in page, "the admin page shows the robot's error"
    time.sleep(HOUR)
    retried = outbox(world, f"SELECT MAX(attempts) FROM outbox WHERE dedupe_key LIKE 'digest:{day2}:%'")[0][0]
    assert retried >= 5, f"only {retried} attempts in an hour"
    assert not [h for h in robot.received if day2 in h[1]]
    robot.mode = "ok"
    wait_until("the second digest sent after the robot's return",
               lambda: outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:{day2}:%' AND state = 'sent'")[0][0] == n2, timeout=60)
    assert sorted(h[0] for h in robot.received if day2 in h[1]) == sorted(token_of[u] for u in recipients2 if u in robot_units), "each once"
    assert sorted(m[0] for m in mailbox.messages if day2 in m[1]) == expect_mail2, "mail that went is not sent again"

    # 3. a wrong secret: refused by the robot, shown on the admin page, the message kept; the right one sends it
    robot.secret = "SECsomething-else"
    day3 = "2031-05-08"
    run_digest(world, day3)
    wait_until("the signature refused", lambda: robot.refused > 0)
    wait_until("the refusal recorded", lambda: "钉钉签名不匹配" in admin.get("/admin/jobs").text)
    kept = outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:{day3}:%' AND state <> 'sent'")[0][0]
    assert kept > 0
    robot.secret = SECRET
    wait_until("the third digest sent once the secret matches",
               lambda: outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:{day3}:%' AND state <> 'sent'")[0][0] == 0, timeout=60)

    # 4. the mail server stopped, then back on its port: the mail waits and arrives once
    world["smtp"].stop()
    day4 = "2031-05-09"
    run_digest(world, day4)
    wait_until("the mail failures recorded", lambda: any("邮件" in (r[0] or "") for r in outbox(world, f"SELECT last_error FROM outbox WHERE dedupe_key LIKE 'digest:{day4}:%'")))
    time.sleep(3)
    again = Controller(mailbox, hostname="127.0.0.1", port=world["smtp_port"])
    again.start()
    world["smtp"] = again
    wait_until("the fourth digest sent", lambda: outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'digest:{day4}:%' AND state <> 'sent'")[0][0] == 0, timeout=60)
    recipients4 = [r[0] for r in outbox(world, f"SELECT recipient FROM outbox WHERE dedupe_key LIKE 'digest:{day4}:%'")]
    assert sorted(m[0] for m in mailbox.messages if day4 in m[1]) == sorted(mail_of[u] for u in recipients4 if u in email_units)
    # never twice: per day, per channel, per unit
    for day in (day1, day2, day3, day4):
        assert len({m for m in mailbox.messages if day in m[1]}) == len([m for m in mailbox.messages if day in m[1]])
        hooks = [h for h in robot.received if day in h[1]]
        assert len(set(hooks)) == len(hooks), day


def test_a_bad_target_is_refused_with_a_reason_and_nothing_changes(world):
    admin = world["admin"]
    before = outbox(world, "SELECT COUNT(*) FROM notify_targets")[0][0]
    token = csrf_of(admin.get("/admin/jobs").text)
    for form, reason in [({"unit": "不存在的局", "email": "a@b.c"}, "未知的单位"),
                         ({"unit": "古山镇", "email": "not-an-address"}, "邮箱地址无效"),
                         ({"unit": "古山镇", "webhook_url": "ftp://x/y"}, "http(s)"),
                         ({"unit": "古山镇", "webhook_secret": "SEC"}, "须填写机器人地址")]:
        r = admin.post("/admin/notify-targets", form=dict(form, _csrf=token))
        assert r.status == 400 and reason in r.text, (form, r.status, r.text[:300])
    assert outbox(world, "SELECT COUNT(*) FROM notify_targets")[0][0] == before
