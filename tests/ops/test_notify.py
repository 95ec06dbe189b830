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
TIMEOUT = 1  # seconds the sender waits for a robot (MUJUN_WEBHOOK_TIMEOUT)


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
        self.mode = "ok"  # ok | error500 | hang (answers only after the sender's timeout, and takes nothing)
        self.secret = SECRET
        self.received: list[tuple[str, str]] = []  # (access_token, content)
        self.refused = 0
        self.hung = 0
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
                if robot.mode == "hang":
                    robot.hung += 1
                    time.sleep(TIMEOUT + 2)
                    try:
                        self.send_response(504)
                        self.end_headers()
                    except OSError:
                        pass  # the sender gave up long ago
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
                              env=dict(env, MUJUN_JOBS="off", MUJUN_OUTBOX_EVERY="0.3", MUJUN_OUTBOX_RETRY_SCALE="0.005", MUJUN_WEBHOOK_TIMEOUT=str(TIMEOUT),
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


def test_a_robot_that_does_not_answer_times_out_is_shown_and_gets_the_message_once_when_it_answers(world):
    admin, robot = world["admin"], world["robot"]
    hook = f"http://127.0.0.1:{robot.port}/robot/send?access_token=HANG"
    set_target(admin, "古山镇", webhook=hook, secret=SECRET)
    robot.mode = "hang"
    day = "2031-06-03"
    run_digest(world, day)
    key = f"digest:{day}:古山镇"
    assert outbox(world, f"SELECT COUNT(*) FROM outbox WHERE dedupe_key = '{key}'")[0][0] == 1, "古山镇 has open work in the demo"
    wait_until("the timeout recorded", lambda: any("秒内未答复" in (r[0] or "") for r in outbox(world, f"SELECT last_error FROM outbox WHERE dedupe_key = '{key}'")))
    assert "钉钉接口 1 秒内未答复" in admin.get("/admin/jobs").text, "the admin page shows the timeout"
    wait_until("a second attempt", lambda: robot.hung >= 2, timeout=30)
    assert outbox(world, f"SELECT state FROM outbox WHERE dedupe_key = '{key}'")[0][0] != "sent"
    robot.mode = "ok"
    wait_until("sent once the robot answers", lambda: outbox(world, f"SELECT state FROM outbox WHERE dedupe_key = '{key}'")[0][0] == "sent", timeout=60)
    assert len([h for h in robot.received if h[0] == "HANG" and day in h[1]]) == 1


def test_a_deputy_who_gave_her_address_is_told_of_the_reply_and_a_follower_gets_the_units_messages(world):
    admin, mailbox, robot = world["admin"], world["mailbox"], world["robot"]
    base = f"http://127.0.0.1:{admin.port}"
    # the deputy gives her address on her account page; a wrong one is refused, naming it, and nothing is kept
    deputy = Client(base)
    assert deputy.sign_in("daibiao", "Rep#2025demo").status == 303
    token = deputy.csrf()
    r = deputy.post("/account/notify", form={"email": "not-an-address", "_csrf": token})
    assert r.status == 400 and "邮箱地址无效" in r.text, (r.status, r.text[:300])
    assert outbox(world, "SELECT COUNT(*) FROM notify_targets WHERE unit = 'user:daibiao'")[0][0] == 0
    r = deputy.post("/account/notify", form={"email": "daibiao@rd.yk.test", "_csrf": token})
    assert r.status == 303, r.status
    assert 'value="daibiao@rd.yk.test"' in deputy.get("/account?saved=notify").text
    # a member of 市税务局 follows the unit with her own robot, through the API
    tax = Client(base)
    assert tax.sign_in("tax", "Tax#2025demo").status == 303
    r = tax.request("PUT", "/api/v1/account/notify", json_body={"webhook_url": f"http://127.0.0.1:{robot.port}/robot/send?access_token=TAXSTAFF",
                                                                 "follow_unit": True}, headers={"X-CSRF-Token": tax.csrf()})
    assert r.status == 200, (r.status, r.text[:300])
    assert json.loads(r.text) == {"webhook_url": f"http://127.0.0.1:{robot.port}/robot/send?access_token=TAXSTAFF", "webhook_secret_set": False,
                                  "follow_unit": True}
    # the admin sees both among the channels
    page = admin.get("/admin/jobs").text
    assert "个人 daibiao" in page and "个人 tax（同时接收本单位消息）" in page
    # HQ registers the deputy's suggestion for 市税务局; the unit accepts and replies
    hq = Client(base)
    assert hq.sign_in("hq", "Hq#2025demo").status == 303
    r = hq.request("POST", "/api/v1/cases", json_body={"type": "suggestion", "title": "通知测试：减轻企业税费负担", "requester": "人大代表",
                                                       "requester_login": "daibiao", "lead_unit": "市税务局"}, headers={"X-CSRF-Token": hq.csrf()})
    assert r.status == 201, (r.status, r.text[:300])
    case = json.loads(r.text)
    wait_until("the follower told of the assignment", lambda: any(h[0] == "TAXSTAFF" and case["ref"] in h[1] for h in robot.received), timeout=30)
    for step, body in (("accept", {}), ("reply", {"category": "A", "note": "已落实减税政策"})):
        r = tax.request("POST", f"/api/v1/cases/{case['id']}/{step}", json_body=body, headers={"X-CSRF-Token": tax.csrf()})
        assert r.status == 200, (step, r.status, r.text[:300])
    wait_until("the deputy's mail", lambda: any(m[0] == "daibiao@rd.yk.test" for m in mailbox.messages), timeout=30)
    told = [m for m in mailbox.messages if m[0] == "daibiao@rd.yk.test"]
    assert len(told) == 1 and case["ref"] in told[0][1] and "已答复" in told[0][1], told
    # the assignment went to the follower once, and to nobody by mail (市税务局 itself has no channel here)
    assert len([h for h in robot.received if h[0] == "TAXSTAFF" and case["ref"] in h[1]]) == 1
