"""Harness of the browser tests: a real headless Chromium (Debian `chromium` +
`chromium-driver`) driven by Selenium 4, against a running `mujun serve`.

    MUJUN_BASE_URL   the server (default http://127.0.0.1:8080, what `make run` serves);
                     `make test-browser` starts a server on a demo database and sets it.
    MUJUN_TEST_YEAR  the year to look at (default 2025, the demo's latest year).
    MUJUN_SCREENSHOTS=1  also save screenshots under docs/screenshots/.
    CHROMIUM_BIN / CHROMEDRIVER_BIN  override /usr/bin/chromium and /usr/bin/chromedriver.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"


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


def http_get(url: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Accept-Language": "zh-CN"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.fixture(scope="session")
def fetch(base_url: str) -> Callable[..., bytes]:
    """fetch(path_or_url, **query) -> body bytes; fails the test unless 200."""
    def _fetch(path: str, **query: Any) -> bytes:
        url = path if path.startswith("http") else base_url + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        status, _, body = http_get(url)
        assert status == 200, f"GET {url} -> {status}: {body[:300]!r}"
        return body
    return _fetch


@pytest.fixture(scope="session")
def api(fetch: Callable[..., bytes]) -> Callable[..., Any]:
    """api('/api/v1/results', year=2025, group='above') -> parsed JSON."""
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
