"""Harness of the browser tests: a real headless Chromium (Debian `chromium` +
`chromium-driver`) driven by Selenium 4, against a running `mujun serve`.

    MUJUN_BASE_URL   the server (default http://127.0.0.1:8080, what `make run` serves);
                     `make test-browser` starts a server on a demo database and sets it.
    MUJUN_TEST_YEAR  the year to look at (default 2025, the demo's latest year).
    MUJUN_SCREENSHOTS=1  also save screenshots under docs/screenshots/.
    CHROMIUM_BIN / CHROMEDRIVER_BIN  override /usr/bin/chromium and /usr/bin/chromedriver.

Every page is behind sign-in. The helpers other test modules use (keep their names):

    login(driver, base_url, user, password)   signs the shared browser in through /login
                                              (does nothing when it already is that user)
    logout(driver, base_url)                  clicks 退出 (or drops the cookies)
    session_cookie(driver)                    the browser's mujun_session value, or None
    http_get(base_url, path, cookie=None)     (status, headers, body); redirects are not followed
    http_login(base_url, user, password)      a session cookie value, through the /login form
    open_page(driver, url)                    navigates and waits for document.readyState complete
    element(scope, css, what)                 the first match under a driver or an element; fails
                                              naming `what`, the selector and the page when absent
    elements(scope, css, what, at_least=1)    every match; fails when there are fewer than at_least
    attribute(el, name, what)                 an attribute that must be there (fails when absent)
    fixtures: base_url, year, driver, screenshot, signed_in_hq, signed_in_admin,
              signed_in_town (gushan, 古山镇), signed_in_enterprise (qiye), signed_in_bank,
              hq_cookie, fetch and api (JSON) — these read as the headquarters user.
The demo accounts are DEMO_ACCOUNTS (what `mujun demo` creates; demo data only).

No helper treats an element as optional: a selector that finds nothing is a failure that names
the element and the page, so a renamed id or class cannot turn a check into one that never runs.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import mujun_seed  # noqa: E402  (tests/mujun_seed.py: the run's seed, should a test need random inputs)

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"

SESSION_COOKIE = "mujun_session"
PRE_SESSION_COOKIE = "mujun_csrf"
# login -> password of the demo accounts `mujun demo` creates (docs/SECURITY.md)
DEMO_ACCOUNTS = {
    "admin": "Admin#2025demo",
    "hq": "Hq#2025demo",
    "tax": "Tax#2025demo",
    "gushan": "Town#2025demo",
    "qiye": "Ent#2025demo",
    "bank": "Bank#2025demo",
    "daibiao": "Rep#2025demo",
    "zhuanjia": "Expert#2025demo",
    "zhuanjia2": "Expert#2025demo",
}
# the jurisdiction of the demo town user `gushan` (its enterprise user `qiye` is there too)
HOME_TOWN = "古山镇"


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("MUJUN_BASE_URL", "http://127.0.0.1:8080").rstrip("/")
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=10) as r:
            if r.status != 200:
                pytest.fail(f"{url}/healthz answered {r.status}")
    except (urllib.error.URLError, OSError) as e:
        pytest.fail(f"no Mujun server at {url} ({e}); start one with `make run` or use `make test-browser`")
    return url


@pytest.fixture(scope="session")
def year() -> int:
    return int(os.environ.get("MUJUN_TEST_YEAR", "2025"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keeps a 3xx answer as it is (the caller sees the status and Location)."""
    def redirect_request(self, *args, **kwargs):
        return None


def _opener(*handlers) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect, *handlers)


def _open(opener, req, timeout: float) -> tuple[int, dict[str, str], bytes]:
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def http_get(base_url: str, path: str = "", cookie: str | None = None,
             timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """GET base_url + path (or path itself when it is a whole URL) with the session cookie
    value `cookie`; returns (status, headers with lower-case names, body). Redirects are not
    followed: a page that needs sign-in answers 303 with Location /login?next=…"""
    url = path if path.startswith(("http://", "https://")) else base_url + path
    headers = {"Accept-Language": "zh-CN"}
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    return _open(_opener(), urllib.request.Request(url, headers=headers), timeout)


def http_login(base_url: str, user: str, password: str, timeout: float = 60) -> str:
    """Signs in through the /login form (pre-session cookie + hidden _csrf field) without a
    browser; returns the value of the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(urllib.request.HTTPCookieProcessor(jar))
    status, _, body = _open(opener, urllib.request.Request(base_url + "/login"), timeout)
    assert status == 200, f"GET /login -> {status}"
    m = re.search(rb'name="_csrf" value="([^"]*)"', body)
    assert m, "the sign-in form has no _csrf field"
    form = urllib.parse.urlencode({"login": user, "password": password, "_csrf": m.group(1).decode()}).encode()
    req = urllib.request.Request(base_url + "/login", data=form, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, headers, body = _open(opener, req, timeout)
    cookie = next((c.value for c in jar if c.name == SESSION_COOKIE and c.value), None)
    assert status in (302, 303) and cookie, \
        f"sign-in as {user} failed: {status} {re.sub(rb'<[^>]+>', b' ', body)[:300].decode(errors='replace')}"
    assert "/account/password" not in headers.get("location", ""), f"{user} must change its password first"
    return cookie


def pytest_terminal_summary(terminalreporter) -> None:
    mujun_seed.report(terminalreporter)


# ------------------------------------------------------------------ elements that must be there
def _page(scope) -> str:
    """The URL of the page a driver or an element is on."""
    driver = getattr(scope, "parent", scope)  # a WebElement's parent is its driver
    try:
        return driver.current_url
    except Exception:  # noqa: BLE001 - only for the message
        return "(unknown page)"


def element(scope, css: str, what: str | None = None):
    """The first element matching `css` under `scope` (a driver or an element). Fails, naming
    `what`, the selector and the page, when there is none."""
    from selenium.webdriver.common.by import By
    found = scope.find_elements(By.CSS_SELECTOR, css)
    if not found:
        pytest.fail(f"{what or css} is missing: nothing matches {css!r} on {_page(scope)}")
    return found[0]


def wait_for(driver, css: str, what: str | None = None, timeout: float = 20):
    """The first element matching `css` once the page after a click has loaded it (a form's answer
    may still be arriving when the click returns); fails, naming `what` and the page, after `timeout`."""
    from selenium.webdriver.common.by import By
    deadline = time.monotonic() + timeout
    while True:
        try:
            ready = driver.execute_script("return document.readyState") == "complete"
        except Exception:  # noqa: BLE001 - the page is being replaced
            ready = False
        try:
            found = driver.find_elements(By.CSS_SELECTOR, css) if ready else []
        except Exception:  # noqa: BLE001 - the page was replaced between the two questions
            found = []
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail(f"{what or css} is missing: nothing matches {css!r} on {_page(driver)} after {timeout:.0f} s")
        time.sleep(0.1)


def elements(scope, css: str, what: str | None = None, at_least: int = 1) -> list:
    """Every element matching `css` under `scope`; fails when fewer than `at_least` are there."""
    from selenium.webdriver.common.by import By
    found = scope.find_elements(By.CSS_SELECTOR, css)
    if len(found) < at_least:
        pytest.fail(f"{what or css}: expected at least {at_least} matching {css!r} on {_page(scope)}, "
                    f"found {len(found)}")
    return found


def attribute(el, name: str, what: str | None = None) -> str:
    """The value of an attribute that must be present (an absent one fails, naming the page)."""
    value = el.get_attribute(name)
    if value is None:
        pytest.fail(f"{what or el.tag_name} has no {name} attribute on {_page(el)}")
    return value


def click_through(driver, button, timeout: float = 30) -> None:
    """Clicks `button` (a link or a form's button) and waits until the page it leads to has
    replaced this one and loaded: a fixed pause is too short on a loaded machine, and a test
    that reads the old page passes or fails by luck.

    The old page is marked on its window object before the click; a new document has a window of
    its own without the mark. (Asking the old page's elements instead fails in Chromium with
    "unhandled inspector error" while the document is being torn down.)"""
    from selenium.common.exceptions import WebDriverException
    driver.execute_script("window.__mujunClickThrough = true")
    button.click()
    deadline = time.monotonic() + timeout
    while True:
        try:
            if driver.execute_script(
                    "return window.__mujunClickThrough !== true && document.readyState === 'complete'"):
                return
        except WebDriverException:
            pass  # the page is being replaced: ask again
        if time.monotonic() > deadline:
            pytest.fail(f"the page did not change within {timeout:.0f} s after the click on {_page(driver)}")
        time.sleep(0.05)


def upload(driver, input_css: str, button_css: str, data: bytes, suffix: str, what: str) -> None:
    """Puts `data` in a temporary file, chooses it in the file input and presses the button."""
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as f:
        f.write(data)
        path = f.name
    try:
        element(driver, input_css, what).send_keys(path)
        click_through(driver, element(driver, button_css, f"the button for {what}"))
    finally:
        os.unlink(path)


def open_page(driver, url: str, timeout: float = 30) -> None:
    driver.get(url)
    _wait_loaded(driver, timeout)


def session_cookie(driver) -> str | None:
    """The browser's session cookie value (the browser must be on the server's site)."""
    c = driver.get_cookie(SESSION_COOKIE)
    return c["value"] if c and c.get("value") else None


def _wait_loaded(driver, timeout: float = 30) -> None:
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import WebDriverException
    # (asked while a document is being replaced, Chromium may answer "unhandled inspector error": ask again)
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def _signed_in_as(driver, base_url: str, user: str) -> bool:
    cookie = session_cookie(driver)
    if not cookie:
        return False
    status, _, body = http_get(base_url, "/account", cookie)
    return status == 200 and f'id="account-login">{user}<'.encode() in body


def login(driver, base_url: str, user: str, password: str) -> None:
    """Signs the browser in as `user` through the sign-in form, as a person would; any other
    session of the browser is dropped first. Nothing happens when it already is `user`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if urllib.parse.urlparse(driver.current_url).netloc != urllib.parse.urlparse(base_url).netloc:
        driver.get(base_url + "/healthz")
    if _signed_in_as(driver, base_url, user):
        return
    driver.delete_all_cookies()
    driver.get(base_url + "/login")
    _wait_loaded(driver)
    field = driver.find_element(By.ID, "login")
    field.clear()
    field.send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    from selenium.common.exceptions import WebDriverException
    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda d: urllib.parse.urlparse(d.current_url).path != "/login" or d.find_elements(By.ID, "login-error"))
    _wait_loaded(driver)
    errors = driver.find_elements(By.ID, "login-error")
    assert not errors, f"sign-in as {user} failed: {errors[0].text}"
    assert "/account/password" not in driver.current_url, f"{user} must change its password first"
    _wait_loaded(driver)
    assert _signed_in_as(driver, base_url, user), \
        f"after signing in as {user} (now at {driver.current_url}) /account does not show {user}"


# the name other modules may look for
sign_in = login


def logout(driver, base_url: str) -> None:
    """Signs out with the 退出 button of /account when the browser has a live session (a
    session the server already ended sends /account to /login: nothing to click then), and
    drops the cookies. A live session whose /account has no button#logout fails."""
    from selenium.webdriver.support.ui import WebDriverWait

    if urllib.parse.urlparse(driver.current_url).netloc != urllib.parse.urlparse(base_url).netloc:
        driver.get(base_url + "/healthz")
    if session_cookie(driver):
        open_page(driver, base_url + "/account")
        if urllib.parse.urlparse(driver.current_url).path != "/login":
            element(driver, "button#logout", "the 退出 (sign-out) button").click()
            from selenium.common.exceptions import WebDriverException
            WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
                lambda d: urllib.parse.urlparse(d.current_url).path == "/login")
    driver.delete_all_cookies()


def _signed_in(driver, base_url: str, user: str):
    login(driver, base_url, user, DEMO_ACCOUNTS[user])
    return driver


@pytest.fixture()
def signed_in_hq(driver, base_url: str):
    """The shared browser, signed in as the headquarters (指挥部) demo user `hq`."""
    return _signed_in(driver, base_url, "hq")


@pytest.fixture()
def signed_in_admin(driver, base_url: str):
    return _signed_in(driver, base_url, "admin")


@pytest.fixture()
def signed_in_town(driver, base_url: str):
    """Signed in as `gushan`, the town user of 古山镇 (HOME_TOWN)."""
    return _signed_in(driver, base_url, "gushan")


@pytest.fixture()
def signed_in_enterprise(driver, base_url: str):
    """Signed in as `qiye`, an enterprise of 古山镇."""
    return _signed_in(driver, base_url, "qiye")


@pytest.fixture()
def signed_in_bank(driver, base_url: str):
    return _signed_in(driver, base_url, "bank")


class _Session:
    """A urllib session of one demo user, signed in again if the server ended it."""
    def __init__(self, base_url: str, user: str):
        self.base_url, self.user = base_url, user
        self.cookie = http_login(base_url, user, DEMO_ACCOUNTS[user])

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = http_get(self.base_url, path, self.cookie)
        if status == 401 or (status in (302, 303) and headers.get("location", "").startswith("/login")):
            self.cookie = http_login(self.base_url, self.user, DEMO_ACCOUNTS[self.user])
            status, headers, body = http_get(self.base_url, path, self.cookie)
        return status, headers, body


@pytest.fixture(scope="session")
def hq_session(base_url: str) -> _Session:
    return _Session(base_url, "hq")


@pytest.fixture(scope="session")
def hq_cookie(hq_session: _Session) -> str:
    """A session cookie value of the headquarters user, signed in without the browser."""
    return hq_session.cookie


@pytest.fixture(scope="session")
def fetch(hq_session: _Session) -> Callable[..., bytes]:
    """fetch(path_or_url, **query) -> body bytes, as the headquarters user; fails unless 200."""
    def _fetch(path: str, **query: Any) -> bytes:
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        status, _, body = hq_session.get(path)
        assert status == 200, f"GET {path} -> {status}: {body[:300]!r}"
        return body
    return _fetch


@pytest.fixture(scope="session")
def api(fetch: Callable[..., bytes]) -> Callable[..., Any]:
    """api('/api/v1/results', year=2025, group='above') -> parsed JSON (as the headquarters user)."""
    def _api(path: str, **query: Any) -> Any:
        return json.loads(fetch(path, **query).decode("utf-8"))
    return _api


@pytest.fixture(scope="session")
def api_all(api: Callable[..., Any]) -> Callable[..., list[dict]]:
    """Every item of a paged /api/v1/results query (follows page=1,2,…)."""
    def _all(**query: Any) -> list[dict]:
        items: list[dict] = []
        page, per = 1, 200
        while True:
            data = api("/api/v1/results", **query, page=page, per=per)
            items += data["items"]
            if not data["items"] or len(items) >= data["total"]:
                assert len(items) == data["total"], \
                    f"/api/v1/results {query}: {len(items)} items over {page} pages, total says {data['total']}"
                return items
            page += 1
    return _all


@pytest.fixture(scope="session")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--lang=zh-CN", "--no-first-run",
                "--disable-background-networking", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    drv = webdriver.Chrome(service=service, options=options)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


@pytest.fixture()
def screenshot(driver) -> Callable[[str], None]:
    """screenshot('ranking') saves docs/screenshots/ranking.png when MUJUN_SCREENSHOTS=1."""
    def _shot(name: str) -> None:
        if os.environ.get("MUJUN_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    return _shot
