"""Signs in N officials (through /login, as a browser does) before the load starts, so that the
60 s measured are the work of signed-in users, not 200 bcrypt checks; writes their cookies and
CSRF tokens as JSON. Accounts: the demo's hq, gushan and tax, in turn.

    python3 bench/load/sessions.py http://127.0.0.1:8080 200 sessions.json
"""
from __future__ import annotations

import json
import re
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, build_opener

ACCOUNTS = [("hq", "Hq#2025demo"), ("gushan", "Town#2025demo"), ("tax", "Tax#2025demo")]


class NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_in(base: str, i: int) -> dict:
    login, password = ACCOUNTS[i % len(ACCOUNTS)]
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(base + "/login", timeout=60).read().decode()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    try:
        opener.open(base + "/login", urllib.parse.urlencode({"login": login, "password": password, "_csrf": token}).encode(), timeout=60)
    except Exception as e:  # the 303 to the home page
        if getattr(e, "code", None) not in (302, 303):
            raise
    cookies = {c.name: c.value for c in jar}
    assert "mujun_session" in cookies, f"{login} did not sign in"
    account = opener.open(base + "/account", timeout=60).read().decode()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', account).group(1)
    return {"login": login, "cookie": cookies["mujun_session"], "csrf": csrf}


def main() -> None:
    base, n, out = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3]
    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda i: sign_in(base, i), range(n)))
    with open(out, "w", encoding="utf-8") as f:
        json.dump(sessions, f)
    print(f"load: {n} officials signed in ({', '.join(a for a, _ in ACCOUNTS)})")


if __name__ == "__main__":
    main()
