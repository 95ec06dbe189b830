"""Sign-in, sign-out and a town user's jurisdiction, in a real browser (docs/SECURITY.md).

Page contract (selectors the server's HTML must keep):
  /login      form#login-form: input#login, input#password, button#login-submit;
              p#login-error (role=alert) after a failed sign-in
  every page  #current-user with the signed-in user's name, and button#logout (退出)
  /ranking    table#ranking-table rows tr[data-credit-code] with td.town (tr.none when no row
              matches); select#town; a#export-xlsx; #result-total[data-total]
  /enterprises/{code} of an enterprise outside the user's town: 404 with section#not-found

A check that something is absent is made only on a page where its container is shown to be
there (the table, the sign-in form, the not-found section), so that a renamed selector fails
instead of passing.
"""
from __future__ import annotations

import io
import json
import urllib.parse

import openpyxl  # scripts/install-deps.sh installs it; the export checks need it
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import (DEMO_ACCOUNTS, HOME_TOWN, attribute, element, http_get, login, logout, open_page,
                      session_cookie)

ROW = "#ranking-table tr[data-credit-code]"


def path_of(driver) -> str:
    return urllib.parse.urlparse(driver.current_url).path


def ranking_url(base_url: str, year: int, **query: str) -> str:
    return f"{base_url}/ranking?" + urllib.parse.urlencode({"year": year, **query})


def towns_in_table(driver) -> list[str]:
    """The td.town of every visible ranking row; a row without one fails."""
    element(driver, "table#ranking-table", "the ranking table")
    cells = driver.execute_script("""
        return Array.from(document.querySelectorAll(arguments[0]))
          .filter(function (r) { return r.offsetParent !== null; })
          .map(function (r) { var c = r.querySelector('td.town');
                              return [r.getAttribute('data-credit-code'), c ? c.textContent.trim() : null]; });
    """, ROW)
    lacking = [code for code, town in cells if town is None]
    assert not lacking, f"rows without td.town at {driver.current_url}: {lacking[:5]}"
    return [town for _, town in cells]


def assert_no_ranking_rows(driver, why: str) -> None:
    """The ranking table is there and empty: its total says 0 and no row is listed."""
    element(driver, "table#ranking-table", "the ranking table")
    total = attribute(element(driver, "#result-total", "the result total"), "data-total", "#result-total")
    assert total == "0", f"{why}: #result-total says {total} at {driver.current_url}"
    assert not driver.find_elements(By.CSS_SELECTOR, ROW), f"{why}: rows shown at {driver.current_url}"
    element(driver, "#ranking-table tr.none", "the 没有符合条件的企业 row of an empty ranking")


def xlsx_rows(body: bytes) -> tuple[list[str], list[list[str]]]:
    assert body[:2] == b"PK", f"not an XLSX file: {body[:40]!r}"
    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    rows = [["" if v is None else str(v).strip() for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    at = next((n for n, r in enumerate(rows[:10]) if "统一社会信用代码" in r), None)
    assert at is not None, f"no header row with 统一社会信用代码 in the export: {rows[:3]}"
    return rows[at], [r for r in rows[at + 1:] if any(r)]


def town_column(header: list[str]) -> int:
    assert "所属镇街" in header, f"no 所属镇街 column in the export header {header}"
    return header.index("所属镇街")


def signed_out(driver, base_url: str) -> None:
    logout(driver, base_url)
    open_page(driver, base_url + "/login")


# ------------------------------------------------------------------ the sign-in page
def test_anonymous_visitor_is_sent_to_the_sign_in_page(driver, base_url, year, screenshot) -> None:
    signed_out(driver, base_url)
    open_page(driver, ranking_url(base_url, year, group="above"))
    assert path_of(driver) == "/login", driver.current_url
    assert "next=" in driver.current_url
    element(driver, "form#login-form", "the sign-in form")
    assert not driver.find_elements(By.CSS_SELECTOR, "#ranking-table"), "the sign-in page shows the ranking"
    screenshot("login")


def fill_sign_in(driver, user: str, password: str) -> None:
    element(driver, "input#login", "the user name field").send_keys(user)
    element(driver, "input#password", "the password field").send_keys(password)
    element(driver, "button#login-submit", "the 登录 button").click()


def test_wrong_password_shows_the_chinese_error(driver, base_url) -> None:
    signed_out(driver, base_url)
    fill_sign_in(driver, "hq", "not-the-password")
    error = WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "login-error"))[0]
    assert "用户名或密码错误" in error.text
    assert path_of(driver) == "/login"
    assert session_cookie(driver) is None
    # the form is ready for another try, with the name kept
    assert attribute(element(driver, "input#login", "the user name field"), "value") == "hq"


def test_right_password_lands_on_the_ranking(driver, base_url) -> None:
    signed_out(driver, base_url)
    fill_sign_in(driver, "hq", DEMO_ACCOUNTS["hq"])
    WebDriverWait(driver, 30).until(lambda d: path_of(d) != "/login")
    assert path_of(driver) == "/ranking"
    assert driver.find_elements(By.CSS_SELECTOR, ROW), "no ranking rows after sign-in"
    assert "指挥部" in element(driver, "#current-user", "the signed-in user").text


def test_the_session_cookie_is_not_readable_by_scripts(driver, base_url) -> None:
    login(driver, base_url, "hq", DEMO_ACCOUNTS["hq"])
    open_page(driver, base_url + "/ranking")
    assert session_cookie(driver), "the browser holds no mujun_session cookie while signed in"
    assert "mujun_session" not in driver.execute_script("return document.cookie"), "mujun_session is not HttpOnly"


def test_sign_in_returns_to_the_page_asked_for(driver, base_url, year) -> None:
    signed_out(driver, base_url)
    open_page(driver, ranking_url(base_url, year, group="below"))
    assert path_of(driver) == "/login"
    fill_sign_in(driver, "hq", DEMO_ACCOUNTS["hq"])
    WebDriverWait(driver, 30).until(lambda d: path_of(d) != "/login")
    assert path_of(driver) == "/ranking"
    assert "group=below" in driver.current_url


# ------------------------------------------------------------------ a town user's jurisdiction
@pytest.mark.parametrize("group", ["above", "below"])
def test_town_user_sees_only_its_town_in_the_ranking(driver, base_url, year, group, screenshot) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    open_page(driver, ranking_url(base_url, year, group=group))
    assert path_of(driver) == "/ranking"
    towns = towns_in_table(driver)
    assert towns, "the town user's ranking is empty"
    assert set(towns) == {HOME_TOWN}, f"rows of other towns: {sorted(set(towns) - {HOME_TOWN})}"
    # the page's total is the town's total in the API, read with the same session
    status, _, body = http_get(base_url, f"/api/v1/results?year={year}&group={group}&per=1", session_cookie(driver))
    assert status == 200
    total = json.loads(body)["total"]
    shown = attribute(element(driver, "#result-total", "the result total"), "data-total", "#result-total")
    assert int(shown) == total
    if group == "above":
        screenshot("ranking-town")


def test_town_user_town_select_offers_only_its_town(driver, base_url, year) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    open_page(driver, ranking_url(base_url, year, group="below"))
    select = Select(element(driver, "select#town", "the town filter"))
    offered = {o.get_attribute("value") or o.text.strip() for o in select.options} - {"", "全部镇街"}
    assert offered == {HOME_TOWN}, f"select#town offers {sorted(offered)}"


@pytest.fixture(scope="module")
def other_town_enterprise(api, year) -> dict:
    """An enterprise outside 古山镇, as the headquarters sees it."""
    other = next((i for i in api("/api/v1/results", year=year, group="below", per=200)["items"]
                  if i["town"] != HOME_TOWN), None)
    assert other is not None, f"the first 200 below-size enterprises are all in {HOME_TOWN}"
    return other


def test_town_user_gets_no_rows_for_another_town_in_the_url(driver, base_url, year, other_town_enterprise) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    town = other_town_enterprise["town"]
    open_page(driver, ranking_url(base_url, year, group="below", town=town))
    assert_no_ranking_rows(driver, f"the {HOME_TOWN} user asked for {town}")


def test_town_user_finds_no_other_town_enterprise_by_search(driver, base_url, year, other_town_enterprise) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    open_page(driver, ranking_url(base_url, year, group="below", q=other_town_enterprise["credit_code"]))
    assert_no_ranking_rows(driver, f"the {HOME_TOWN} user searched {other_town_enterprise['credit_code']}")


@pytest.mark.parametrize("kind", ["page", "api"])
def test_town_user_gets_404_for_another_town_enterprise(driver, base_url, year, other_town_enterprise, kind) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    code = other_town_enterprise["credit_code"]
    path = {"page": f"/enterprises/{code}?year={year}", "api": f"/api/v1/enterprises/{code}"}[kind]
    status, _, _ = http_get(base_url, path, session_cookie(driver))
    assert status == 404, f"{path} -> {status}"


def test_town_user_sees_not_found_for_another_town_enterprise(driver, base_url, year, other_town_enterprise) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    open_page(driver, f"{base_url}/enterprises/{other_town_enterprise['credit_code']}?year={year}")
    element(driver, "section#not-found", "the not-found section")
    assert other_town_enterprise["name"] not in element(driver, "body").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#final-class"), "the class of another town's enterprise is shown"


@pytest.mark.parametrize("group", ["above", "below"])
def test_town_user_export_holds_only_its_town(driver, base_url, year, group) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    cookie = session_cookie(driver)
    open_page(driver, ranking_url(base_url, year, group=group))
    href = attribute(element(driver, "a#export-xlsx", "the XLSX export link"), "href", "a#export-xlsx")
    status, headers, body = http_get(base_url, href, cookie)
    assert status == 200, f"{href} -> {status}"
    header, rows = xlsx_rows(body)
    town = town_column(header)
    assert rows, f"the {group} export is empty"
    assert {r[town] for r in rows} == {HOME_TOWN}
    status, _, api_body = http_get(base_url, f"/api/v1/results?year={year}&group={group}&per=1", cookie)
    assert status == 200
    assert len(rows) == json.loads(api_body)["total"]


def test_town_user_unfiltered_export_holds_only_its_town(driver, base_url, year) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    status, _, body = http_get(base_url, f"/export/ranking.xlsx?year={year}", session_cookie(driver))
    assert status == 200, f"/export/ranking.xlsx -> {status}"
    header, rows = xlsx_rows(body)
    assert rows, "the export is empty"
    assert {r[town_column(header)] for r in rows} == {HOME_TOWN}


def test_export_without_a_session_sends_to_sign_in(base_url, year) -> None:
    status, headers, _ = http_get(base_url, f"/export/ranking.xlsx?year={year}")
    assert status in (302, 303) and headers.get("location", "").startswith("/login"), (status, headers)


# ------------------------------------------------------------------ sign-out
@pytest.fixture()
def signed_out_by_the_button(driver, base_url, year) -> str:
    """Signs in as gushan, clicks 退出 on the ranking, and returns the cookie the session had."""
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    cookie = session_cookie(driver)
    assert cookie, "no session cookie after sign-in"
    open_page(driver, ranking_url(base_url, year, group="above"))
    element(driver, "button#logout", "the 退出 (sign-out) button").click()
    WebDriverWait(driver, 30).until(lambda d: path_of(d) == "/login")
    return cookie


def test_sign_out_returns_to_the_sign_in_page(driver, signed_out_by_the_button) -> None:
    element(driver, "form#login-form", "the sign-in form")
    assert session_cookie(driver) is None


def test_after_sign_out_the_ranking_asks_for_sign_in(driver, base_url, year, signed_out_by_the_button) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    assert path_of(driver) == "/login", "the ranking opened after sign-out"


@pytest.mark.parametrize("path,expected", [("/ranking", "to-login"), ("/api/v1/results", 401)])
def test_the_old_cookie_is_dead_on_the_server(base_url, signed_out_by_the_button, path, expected) -> None:
    status, headers, _ = http_get(base_url, path, signed_out_by_the_button)
    if expected == "to-login":
        assert status in (302, 303) and headers.get("location", "").startswith("/login"), (status, headers)
    else:
        assert status == expected, f"{path} with the old cookie -> {status}"
