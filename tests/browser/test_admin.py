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

The admin signs in through the sign-in form itself (demo account `admin`, or MUJUN_ADMIN_LOGIN
and MUJUN_ADMIN_PASSWORD), on the shared browser, and signs out with 退出 at the end of the
module; the other modules' fixtures sign the browser in as whoever they need.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import attribute, element, elements, login, logout, open_page

ADMIN_LOGIN = os.environ.get("MUJUN_ADMIN_LOGIN", "admin")
ADMIN_PASSWORD = os.environ.get("MUJUN_ADMIN_PASSWORD", "Admin#2025demo")
# login -> the role /admin/users shows for it
DEMO_ROLES = {
    "admin": "管理员",
    "hq": "指挥部",
    "tax": "部门",
    "gushan": "镇街",
    "qiye": "企业",
    "bank": "银行",
    "daibiao": "代表/群众",
    "zhuanjia": "专家",
    "zhuanjia2": "专家",
}


@pytest.fixture(scope="module")
def admin(driver, base_url: str):
    """The shared browser, signed in as the demo admin for this module (signed out after)."""
    login(driver, base_url, ADMIN_LOGIN, ADMIN_PASSWORD)
    yield driver
    logout(driver, base_url)


@pytest.fixture()
def users_page(admin, base_url: str):
    open_page(admin, base_url + "/admin/users")
    assert urllib.parse.urlparse(admin.current_url).path == "/admin/users", admin.current_url
    return admin


def user_rows(driver) -> dict:
    table = element(driver, "table#users-table", "the users table")
    return {attribute(r, "data-login"): r for r in elements(table, "tr[data-login]", "the user rows")}


def test_users_page_lists_every_demo_account(users_page) -> None:
    rows = user_rows(users_page)
    missing = [login for login in DEMO_ROLES if login not in rows]
    assert not missing, f"demo accounts missing from /admin/users: {missing}"


def test_users_page_shows_each_role_in_chinese(users_page, screenshot) -> None:
    rows = user_rows(users_page)
    shown = {login: element(rows[login], "td.role", f"the role cell of {login}").text.strip()
             for login in DEMO_ROLES if login in rows}
    wrong = {login: role for login, role in shown.items() if role != DEMO_ROLES[login]}
    assert not wrong, f"roles shown (expected {DEMO_ROLES}): {wrong}"
    screenshot("admin-users")


def test_users_page_shows_the_town_of_a_town_user_and_a_reset_button(users_page) -> None:
    rows = user_rows(users_page)
    assert "gushan" in rows and "hq" in rows, sorted(rows)
    assert "古山镇" in rows["gushan"].text
    element(rows["hq"], "button.reset-password", "the reset-password button of hq")


def test_create_form_offers_every_role_and_the_towns(users_page) -> None:
    form = element(users_page, "form#create-user-form", "the create-user form")
    roles = [attribute(o, "value") for o in elements(form, "#new-role option", "the role options")]
    assert set(roles) >= {"admin", "headquarters", "department", "town", "enterprise", "bank", "requester"}, roles
    towns = [o.text for o in elements(form, "#new-town option", "the town options")]
    assert "古山镇" in towns, towns


def test_every_post_form_of_the_users_page_carries_the_csrf_field(users_page) -> None:
    # the create form, the sign-out form and per user a reset (and a disable/enable) form
    forms = elements(users_page, "form[method=post]", "the POST forms", at_least=len(DEMO_ROLES) + 2)
    lacking = [f.get_attribute("action") for f in forms if not f.find_elements(By.CSS_SELECTOR, "input[name=_csrf]")]
    assert not lacking, f"POST forms without input[name=_csrf]: {lacking}"


@pytest.fixture()
def audit_page(admin, base_url: str):
    open_page(admin, base_url + "/admin/audit")
    return admin


def audit_rows(driver) -> list:
    return elements(element(driver, "table#audit-table", "the audit table"), "tr[data-audit-id]",
                    "the audit entries")


def test_audit_page_lists_entries_newest_first(audit_page, screenshot) -> None:
    ids = [int(attribute(r, "data-audit-id")) for r in audit_rows(audit_page)]
    assert ids == sorted(ids, reverse=True)
    screenshot("admin-audit")


@pytest.fixture()
def audit_filtered(audit_page):
    """The audit page filtered through its form, as a person would: action auth.sign_in by the admin."""
    form = element(audit_page, "form#audit-filters", "the audit filter form")
    box = element(form, "#audit-action", "the action filter")
    box.clear()
    box.send_keys("auth.sign_in")
    actor = element(form, "#audit-actor", "the actor filter")
    actor.clear()
    actor.send_keys(ADMIN_LOGIN)
    element(form, "#audit-search", "the 查询 button").click()
    WebDriverWait(audit_page, 30, ignored_exceptions=(WebDriverException,)).until(lambda d: "action=auth.sign_in" in d.current_url)
    return audit_page


def test_audit_filter_shows_only_the_admin_sign_ins(audit_filtered) -> None:
    rows = audit_rows(audit_filtered)
    shown = [(element(r, "td.action", "the action cell").text.strip(), element(r, "td.actor", "the actor cell").text.strip())
             for r in rows]
    other = [x for x in shown if x != ("auth.sign_in", ADMIN_LOGIN)]
    assert not other, f"entries other than auth.sign_in by {ADMIN_LOGIN}: {other[:5]}"


def test_audit_export_link_carries_the_filter(audit_filtered) -> None:
    href = attribute(element(audit_filtered, "a#audit-export", "the audit export link"), "href")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(href).query)
    assert urllib.parse.urlparse(href).path == "/admin/audit.xlsx"
    assert query.get("action") == ["auth.sign_in"] and query.get("actor") == [ADMIN_LOGIN], query


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/tokens", "/admin/settings",
                                  "/admin/audit.xlsx"])
def test_admin_pages_need_the_admin(base_url: str, path: str) -> None:
    """Without a session the admin pages send the visitor to the sign-in page."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: D401 - keep the 303
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(base_url + path, timeout=30) as r:
            status, location = r.status, r.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        status, location = e.code, e.headers.get("Location", "")
    assert status in (302, 303), f"{path} -> {status}"
    assert location.startswith("/login"), f"{path} -> {location}"


# ---------------------------------------------------------------- /admin/jobs
# Page contract: table#job-specs with a row tr[data-job] per scheduled job and its
# button.run-now[data-job]; table#job-runs with rows tr[data-job][data-period][data-state];
# p#outbox-counts; table#outbox-table with rows tr[data-outbox-id].
# (The digest's subject carries the day, never the manual run's period.)

def test_jobs_page_runs_the_morning_digest_now_and_shows_its_run_and_messages(admin, base_url: str, screenshot) -> None:
    open_page(admin, base_url + "/admin/jobs")
    specs = {attribute(r, "data-job") for r in elements(admin, "table#job-specs tr[data-job]", "the scheduled jobs", at_least=3)}
    assert {"daily-digest", "daily-backup", "projects-check"} <= specs, specs
    before = {(attribute(r, "data-job"), attribute(r, "data-period")) for r in admin.find_elements(By.CSS_SELECTOR, "table#job-runs tr[data-job]")}
    element(admin, 'button.run-now[data-job="daily-digest"]', "the digest's 立即运行").click()
    WebDriverWait(admin, 30, ignored_exceptions=(WebDriverException,)).until(lambda d: urllib.parse.urlparse(d.current_url).path == "/admin/jobs"
                                  and len(d.find_elements(By.CSS_SELECTOR, "table#job-runs tr[data-job]")) > len(before))
    rows = elements(admin, "table#job-runs tr[data-job]", "the runs")
    new = [r for r in rows if (attribute(r, "data-job"), attribute(r, "data-period")) not in before]
    assert len(new) == 1, [r.text for r in new]
    run = new[0]
    assert attribute(run, "data-job") == "daily-digest" and attribute(run, "data-period").startswith("manual-")
    assert attribute(run, "data-state") == "succeeded", run.text
    assert "个单位有待办" in run.text, run.text
    counts = element(admin, "p#outbox-counts", "the outbox counts").text
    assert "待发送" in counts, counts
    messages = elements(admin, "table#outbox-table tr[data-outbox-id]", "the digest's messages")
    assert any("【亩均督办】" in m.text for m in messages), [m.text for m in messages[:3]]
    assert not any("manual-" in m.text for m in messages), [m.text for m in messages[:3]]
    screenshot("admin-jobs")
