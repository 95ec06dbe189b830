"""The administrator's pages in a real browser, against a demo server (`mujun demo` creates one
account per role).

Page contract (selectors the server's HTML must keep):
  /login                 form#login-form with input#login, input#password, button#login-submit
  /admin/users           table#users-table with rows tr[data-login="…"], td.role (role in Chinese),
                         form#create-user-form
  /admin/audit           form#audit-filters (input#audit-actor, #audit-action, #audit-q, #audit-from,
                         #audit-to, button#audit-search, a#audit-export),
                         table#audit-table with rows tr[data-audit-id] and td.actor / td.action
  /admin/tokens          table#tokens-table, form#issue-token-form
  /admin/settings        form#settings-form with a checkbox per page that may be made public

The admin signs in through the sign-in form itself (demo account `admin`), on the shared
browser: the cookies another test had are put back afterwards.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ADMIN_LOGIN = os.environ.get("MUJUN_ADMIN_LOGIN", "admin")
ADMIN_PASSWORD = os.environ.get("MUJUN_ADMIN_PASSWORD", "Admin#2025demo")
DEMO_ACCOUNTS = {
    "admin": "管理员",
    "hq": "指挥部",
    "tax": "部门",
    "gushan": "镇街",
    "qiye": "企业",
    "bank": "银行",
    "daibiao": "代表/群众",
}


def open_page(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, base_url: str, login: str, password: str) -> None:
    """Signs in through /login as a person would (the form carries the CSRF field)."""
    open_page(driver, base_url + "/login")
    if not driver.find_elements(By.ID, "login-form"):
        # already signed in as someone: sign out first
        driver.delete_all_cookies()
        open_page(driver, base_url + "/login")
    driver.find_element(By.ID, "login").clear()
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in urllib.parse.urlparse(d.current_url).path
                                    or d.find_elements(By.ID, "login-error"))
    errors = driver.find_elements(By.ID, "login-error")
    assert not errors, f"sign-in as {login} failed: {errors[0].text}"


@pytest.fixture(scope="module")
def admin(driver, base_url: str):
    """The shared browser, signed in as the demo admin for this module."""
    open_page(driver, base_url + "/healthz")
    saved = driver.get_cookies()
    driver.delete_all_cookies()
    sign_in(driver, base_url, ADMIN_LOGIN, ADMIN_PASSWORD)
    yield driver
    # sign out (ends the admin session), then give back whatever session the browser had
    open_page(driver, base_url + "/account")
    buttons = driver.find_elements(By.ID, "logout")
    if buttons:
        buttons[0].click()
        WebDriverWait(driver, 30).until(lambda d: "/login" in d.current_url)
    driver.delete_all_cookies()
    open_page(driver, base_url + "/healthz")
    for c in saved:
        if c.get("sameSite") not in ("Strict", "Lax", "None"):
            c.pop("sameSite", None)
        try:
            driver.add_cookie(c)
        except Exception:  # a cookie for another path or an expired one: not needed
            pass


def test_users_page_lists_demo_accounts(admin, base_url: str, screenshot) -> None:
    open_page(admin, base_url + "/admin/users")
    assert urllib.parse.urlparse(admin.current_url).path == "/admin/users"
    table = admin.find_element(By.ID, "users-table")
    rows = {r.get_attribute("data-login"): r for r in table.find_elements(By.CSS_SELECTOR, "tr[data-login]")}
    missing = [login for login in DEMO_ACCOUNTS if login not in rows]
    assert not missing, f"demo accounts missing from /admin/users: {missing}"
    for login, role in DEMO_ACCOUNTS.items():
        assert rows[login].find_element(By.CSS_SELECTOR, "td.role").text.strip() == role, login
    # the town user shows its jurisdiction; every row can be reset
    assert "古山镇" in rows["gushan"].text
    assert rows["hq"].find_elements(By.CSS_SELECTOR, "button.reset-password")
    # the create form offers every role and the towns
    form = admin.find_element(By.ID, "create-user-form")
    roles = [o.get_attribute("value") for o in form.find_elements(By.CSS_SELECTOR, "#new-role option")]
    assert set(roles) >= {"admin", "headquarters", "department", "town", "enterprise", "bank", "requester"}
    towns = [o.text for o in form.find_elements(By.CSS_SELECTOR, "#new-town option")]
    assert "古山镇" in towns
    # the CSRF field is on every form of the page
    for f in admin.find_elements(By.CSS_SELECTOR, "form[method=post]"):
        assert f.find_elements(By.CSS_SELECTOR, "input[name=_csrf]"), f.get_attribute("action")
    screenshot("admin-users")


def test_audit_page_shows_sign_ins(admin, base_url: str, screenshot) -> None:
    open_page(admin, base_url + "/admin/audit")
    rows = admin.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-audit-id]")
    assert rows, "the audit log is empty"
    # newest first: ids descending
    ids = [int(r.get_attribute("data-audit-id")) for r in rows]
    assert ids == sorted(ids, reverse=True)

    # filter by the action prefix through the form, as a person would
    box = admin.find_element(By.ID, "audit-action")
    box.clear()
    box.send_keys("auth.sign_in")
    actor = admin.find_element(By.ID, "audit-actor")
    actor.clear()
    actor.send_keys(ADMIN_LOGIN)
    admin.find_element(By.ID, "audit-search").click()
    WebDriverWait(admin, 30).until(lambda d: "action=auth.sign_in" in d.current_url)
    rows = admin.find_elements(By.CSS_SELECTOR, "#audit-table tr[data-audit-id]")
    assert rows, "no sign-in entry for the admin in the audit log"
    for r in rows:
        assert r.find_element(By.CSS_SELECTOR, "td.action").text.strip() == "auth.sign_in"
        assert r.find_element(By.CSS_SELECTOR, "td.actor").text.strip() == ADMIN_LOGIN
    # the export link carries the same filter
    href = admin.find_element(By.ID, "audit-export").get_attribute("href")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(href).query)
    assert urllib.parse.urlparse(href).path == "/admin/audit.xlsx"
    assert query.get("action") == ["auth.sign_in"] and query.get("actor") == [ADMIN_LOGIN]
    screenshot("admin-audit")


def test_admin_pages_need_the_admin(base_url: str) -> None:
    """Without a session the admin pages send the visitor to the sign-in page."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: D401 - keep the 303
            return None

    opener = urllib.request.build_opener(NoRedirect)
    for path in ("/admin/users", "/admin/audit", "/admin/tokens", "/admin/settings", "/admin/audit.xlsx"):
        try:
            with opener.open(base_url + path, timeout=30) as r:
                status, location = r.status, r.headers.get("Location", "")
        except urllib.error.HTTPError as e:
            status, location = e.code, e.headers.get("Location", "")
        assert status in (302, 303), f"{path} -> {status}"
        assert location.startswith("/login"), f"{path} -> {location}"
