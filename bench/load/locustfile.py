"""200 signed-in officials over a realistic mix (issue 12, part 7), each with a session of its
own (bench/load/sessions.py made them before the clock starts):

    headquarters (hq): the ranking, enterprise pages, the map's parcels, bulletins, case pages
    a town (gushan):   the ranking, enterprise pages, the map, its inbox, case pages, a case step
    a department (tax): its inbox, case pages, a case step

A case step is a progress step (办理) on one of the unit's own cases, through the JSON API with
the session's CSRF token. The town's and the department's officials share a handful of open
cases, so two of them sometimes step the same case at the same instant: the second gets 409
("已被他人更新", nothing lost), which is the designed answer, not an error; it is counted on a
line of its own ("case step: 409, the same case at once"). Any other 409 is an error. Think time 1–3 s between requests, as people read a page before the next.
"""
from __future__ import annotations

import json
import os
import random
import threading

from locust import HttpUser, between, events, task

SESSIONS = json.load(open(os.environ["MUJUN_LOAD_SESSIONS"], encoding="utf-8"))
_next = iter(range(10**9))
_lock = threading.Lock()
DATA: dict = {}


@events.test_start.add_listener
def _discover(environment, **_):
    """What the users will ask for: enterprise codes, case ids per unit, the map's year."""
    import urllib.request
    base = environment.host.rstrip("/")

    def get(path, session):
        req = urllib.request.Request(base + path, headers={"Cookie": f"mujun_session={session['cookie']}"})
        return json.loads(urllib.request.urlopen(req, timeout=60).read())

    hq = next(s for s in SESSIONS if s["login"] == "hq")
    results = get("/api/v1/results?per=200", hq)
    DATA["codes"] = [r["credit_code"] for r in results["items"]]
    cases = get("/api/v1/cases?per=200", hq)
    DATA["cases"] = [c["id"] for c in cases] or [1]
    DATA["own"] = {}
    for login in ("gushan", "tax"):
        s = next(x for x in SESSIONS if x["login"] == login)
        box = get("/api/v1/cases/inbox", s)
        own = [c["id"] for g in ("in_progress", "overdue") for c in box.get(g, []) if c["state"] in ("accepted", "handling")]
        DATA["own"][login] = own
    DATA["year"] = get("/api/v1/years", hq)["evaluated"][0]


class Official(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        with _lock:
            self.s = SESSIONS[next(_next) % len(SESSIONS)]
        self.client.cookies.set("mujun_session", self.s["cookie"])
        self.login = self.s["login"]

    def _is(self, *logins):
        return self.login in logins

    @task(5)
    def ranking(self):
        if self._is("hq", "gushan"):
            self.client.get("/ranking", name="ranking")

    @task(3)
    def enterprise(self):
        if self._is("hq", "gushan"):
            with self.client.get(f"/enterprises/{random.choice(DATA['codes'])}", name="enterprise page", catch_response=True) as r:
                if r.status_code == 404 and self.login == "gushan":
                    r.success()  # another town's enterprise: not in this town's scope, as it should be

    @task(3)
    def map_json(self):
        if self._is("hq", "gushan"):
            self.client.get(f"/api/v1/map/parcels?year={DATA['year']}", name="map JSON")

    @task(4)
    def inbox(self):
        if self._is("gushan", "tax"):
            self.client.get("/api/v1/cases/inbox", name="inbox")

    @task(4)
    def case_page(self):
        ids = DATA["own"].get(self.login) or DATA["cases"]
        self.client.get(f"/cases/{random.choice(ids)}", name="case page")

    @task(1)
    def case_step(self):
        own = DATA["own"].get(self.login)
        if own:
            with self.client.post(f"/api/v1/cases/{random.choice(own)}/progress", json={"note": "现场推进（负载测试）"},
                                  headers={"X-CSRF-Token": self.s["csrf"]}, name="case step", catch_response=True) as r:
                if r.status_code == 409 and "已被他人更新" in r.text:
                    # two officials stepped the same case at the same instant: the second is refused
                    # and nothing is lost, as designed (optimistic locking) — counted on a line of its own
                    r.success()
                    events.request.fire(request_type="POST", name="case step: 409, the same case at once", response_time=0,
                                        response_length=0, exception=None, context={})

    @task(1)
    def bulletin(self):
        if self._is("hq"):
            self.client.get("/cases/bulletin", name="bulletin")
