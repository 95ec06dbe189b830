"""Sign-in, sign-out and a town user's jurisdiction, in a real browser (docs/SECURITY.md).

Page contract (selectors the server's HTML must keep):
  /login      form#login-form: input#login, input#password, button#login-submit;
              p#login-error (role=alert) after a failed sign-in
  every page  #current-user with the signed-in user's name, and button#logout (退出)
  /ranking    table#ranking-table rows tr[data-credit-code] with td.town; select#town;
              a#export-xlsx; #result-total[data-total]
"""
from __future__ import annotations

import io
import json
import urllib.parse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import DEMO_ACCOUNTS, HOME_TOWN, http_get, login, logout, session_cookie

ROW = "#ranking-table tr[data-credit-code]"


def open_page(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def path_of(driver) -> str:
    return urllib.parse.urlparse(driver.current_url).path


def ranking_url(base_url: str, year: int, **query: str) -> str:
    return f"{base_url}/ranking?" + urllib.parse.urlencode({"year": year, **query})


def towns_in_table(driver) -> list[str]:
    return [c.text.strip() for c in driver.find_elements(By.CSS_SELECTOR, f"{ROW} td.town") if c.is_displayed()]


def xlsx_rows(body: bytes) -> tuple[list[str], list[list[str]]]:
    openpyxl = pytest.importorskip("openpyxl")
    assert body[:2] == b"PK", f"not an XLSX file: {body[:40]!r}"
    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    rows = [["" if v is None else str(v).strip() for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    at = next(n for n, r in enumerate(rows[:10]) if "统一社会信用代码" in r)
    return rows[at], [r for r in rows[at + 1:] if any(r)]


def signed_out(driver, base_url: str) -> None:
    logout(driver, base_url)
    open_page(driver, base_url + "/login")


# ------------------------------------------------------------------ the sign-in page
def test_anonymous_visitor_is_sent_to_the_sign_in_page(driver, base_url, year, screenshot) -> None:
    signed_out(driver, base_url)
    open_page(driver, ranking_url(base_url, year, group="above"))
    assert path_of(driver) == "/login", driver.current_url
    assert "next=" in driver.current_url
    assert driver.find_elements(By.CSS_SELECTOR, "form#login-form")
    assert not driver.find_elements(By.CSS_SELECTOR, ROW), "the sign-in page shows ranking rows"
    screenshot("login")


def test_wrong_password_shows_the_chinese_error(driver, base_url) -> None:
    signed_out(driver, base_url)
    driver.find_element(By.ID, "login").send_keys("hq")
    driver.find_element(By.ID, "password").send_keys("not-the-password")
    driver.find_element(By.ID, "login-submit").click()
    error = WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "login-error"))[0]
    assert "用户名或密码错误" in error.text
    assert path_of(driver) == "/login"
    assert session_cookie(driver) is None
    # the form is ready for another try, with the name kept
    assert driver.find_element(By.ID, "login").get_attribute("value") == "hq"


def test_right_password_lands_on_the_ranking(driver, base_url) -> None:
    signed_out(driver, base_url)
    driver.find_element(By.ID, "login").send_keys("hq")
    driver.find_element(By.ID, "password").send_keys(DEMO_ACCOUNTS["hq"])
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: path_of(d) != "/login")
    assert path_of(driver) == "/ranking"
    assert driver.find_elements(By.CSS_SELECTOR, ROW), "no ranking rows after sign-in"
    assert "指挥部" in driver.find_element(By.ID, "current-user").text
    # the session cookie is not readable by scripts
    assert driver.execute_script("return document.cookie").find("mujun_session") < 0


def test_sign_in_returns_to_the_page_asked_for(driver, base_url, year) -> None:
    signed_out(driver, base_url)
    open_page(driver, ranking_url(base_url, year, group="below"))
    assert path_of(driver) == "/login"
    driver.find_element(By.ID, "login").send_keys("hq")
    driver.find_element(By.ID, "password").send_keys(DEMO_ACCOUNTS["hq"])
    driver.find_element(By.ID, "login-submit").click()
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
    shown = driver.find_element(By.CSS_SELECTOR, "#result-total").get_attribute("data-total")
    assert int(shown) == total
    if group == "above":
        screenshot("ranking-town")


def test_town_user_town_select_offers_only_its_town(driver, base_url, year) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    open_page(driver, ranking_url(base_url, year, group="below"))
    select = Select(driver.find_element(By.CSS_SELECTOR, "select#town"))
    offered = {o.get_attribute("value") or o.text.strip() for o in select.options} - {"", "全部镇街"}
    assert offered == {HOME_TOWN}, f"select#town offers {sorted(offered)}"


def test_town_user_cannot_reach_other_towns_by_the_url(driver, base_url, year, api) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    # an enterprise of another town, as the headquarters sees it
    other = next(i for i in api("/api/v1/results", year=year, group="below", per=200)["items"] if i["town"] != HOME_TOWN)
    open_page(driver, ranking_url(base_url, year, group="below", town=other["town"]))
    assert not driver.find_elements(By.CSS_SELECTOR, ROW), f"rows of {other['town']} shown to the 古山镇 user"
    open_page(driver, ranking_url(base_url, year, group="below", q=other["credit_code"]))
    assert not driver.find_elements(By.CSS_SELECTOR, ROW)
    cookie = session_cookie(driver)
    for path in (f"/enterprises/{other['credit_code']}?year={year}", f"/api/v1/enterprises/{other['credit_code']}"):
        status, _, _ = http_get(base_url, path, cookie)
        assert status == 404, f"{path} -> {status}"
    open_page(driver, f"{base_url}/enterprises/{other['credit_code']}?year={year}")
    assert other["name"] not in driver.find_element(By.TAG_NAME, "body").text


def test_town_user_export_holds_only_its_town(driver, base_url, year) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    cookie = session_cookie(driver)
    for group in ("above", "below"):
        open_page(driver, ranking_url(base_url, year, group=group))
        href = driver.find_element(By.CSS_SELECTOR, "a#export-xlsx").get_attribute("href")
        status, headers, body = http_get(base_url, href, cookie)
        assert status == 200, f"{href} -> {status}"
        header, rows = xlsx_rows(body)
        town = header.index("所属镇街")
        assert rows, f"the {group} export is empty"
        assert {r[town] for r in rows} == {HOME_TOWN}
        status, _, api_body = http_get(base_url, f"/api/v1/results?year={year}&group={group}&per=1", cookie)
        assert len(rows) == json.loads(api_body)["total"]
    # the whole list, without filters, as well
    status, _, body = http_get(base_url, f"/export/ranking.xlsx?year={year}", cookie)
    header, rows = xlsx_rows(body)
    assert rows and {r[header.index("所属镇街")] for r in rows} == {HOME_TOWN}
    # and without the session the export is not given
    status, headers, _ = http_get(base_url, f"/export/ranking.xlsx?year={year}")
    assert status in (302, 303) and headers.get("location", "").startswith("/login")


# ------------------------------------------------------------------ sign-out
def test_sign_out_returns_to_the_sign_in_page(driver, base_url, year) -> None:
    login(driver, base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    cookie = session_cookie(driver)
    open_page(driver, ranking_url(base_url, year, group="above"))
    driver.find_element(By.ID, "logout").click()
    WebDriverWait(driver, 30).until(lambda d: path_of(d) == "/login")
    assert driver.find_elements(By.CSS_SELECTOR, "form#login-form")
    assert session_cookie(driver) is None
    open_page(driver, ranking_url(base_url, year, group="above"))
    assert path_of(driver) == "/login", "the ranking opened after sign-out"
    # the old cookie is dead on the server too
    status, headers, _ = http_get(base_url, "/ranking", cookie)
    assert status in (302, 303) and headers.get("location", "").startswith("/login")
    status, _, _ = http_get(base_url, "/api/v1/results", cookie)
    assert status == 401
