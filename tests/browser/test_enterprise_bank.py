"""The enterprise's own view (/my) and the bank's credit list (/bank), in a real browser
signed in with the demo accounts that `mujun demo` creates.

Page contract (selectors the server's HTML must keep):
  /my      #enterprise-name, #credit-code, #final-class[data-class], section#gap (提升空间,
           table#gap-table when a better class is reachable), table#indicators, #consent-form,
           #my-parcels, table#my-appeals rows tr[data-appeal-id][data-state]
  /bank    table#credit-list rows tr[data-credit-code][data-class] (A/B only),
           table#credit-terms-table, a#export-xlsx
  /login   #login, #password, #login-submit
"""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import conftest

ENTERPRISE = ("qiye", "Ent#2025demo")
BANK = ("bank", "Bank#2025demo")
SESSION_COOKIE = "mujun_session"


# ------------------------------------------------------------------ helpers
def open_page(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, base_url: str, login: str, password: str) -> None:
    """Signs in with the shared helper of conftest when there is one, else through /login.
    Any earlier session of the shared browser is dropped first."""
    helper = getattr(conftest, "sign_in", None) or getattr(conftest, "login_as", None)
    if callable(helper):
        try:
            helper(driver, base_url, login, password)
            return
        except TypeError:
            pass  # a helper with another signature: sign in here
    open_page(driver, base_url + "/login")
    driver.delete_all_cookies()
    open_page(driver, base_url + "/login")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)
    assert "/account/password" not in driver.current_url, f"{login} must change its password first"


def status_with_session(driver, url: str) -> int:
    """The HTTP status of GET url with the browser's session cookie."""
    cookie = driver.get_cookie(SESSION_COOKIE)
    assert cookie, "not signed in"
    req = urllib.request.Request(url, headers={"Cookie": f"{SESSION_COOKIE}={cookie['value']}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def credit_codes(driver, base_url: str) -> list[tuple[str, str]]:
    """(credit code, class) of the bank's credit list, read as the bank."""
    sign_in(driver, base_url, *BANK)
    open_page(driver, base_url + "/bank")
    rows = driver.find_elements(By.CSS_SELECTOR, "#credit-list tr[data-credit-code]")
    return [(r.get_attribute("data-credit-code"), r.get_attribute("data-class")) for r in rows]


# ------------------------------------------------------------------ the bank
def test_bank_sees_only_consenting_a_b_enterprises(driver, base_url, credit_codes, screenshot):
    sign_in(driver, base_url, *BANK)
    open_page(driver, base_url + "/bank")
    assert "亩均英雄贷名单" in driver.find_element(By.TAG_NAME, "h1").text
    assert credit_codes, "the demo's credit list is empty"
    assert {cls for _, cls in credit_codes} <= {"A", "B"}
    headers = [th.text.strip() for th in driver.find_elements(By.CSS_SELECTOR, "#credit-list thead th")]
    assert "分类" in headers and "总分" in headers
    for hidden in ("亩均税收", "用地面积", "排名"):
        assert not any(hidden in h for h in headers), f"the bank sees {hidden}"
    terms = driver.find_elements(By.CSS_SELECTOR, "#credit-terms-table tr[data-class]")
    assert {t.get_attribute("data-class") for t in terms} == {"A", "B"}
    assert driver.find_element(By.ID, "export-xlsx").get_attribute("href").endswith(".xlsx?year=" + driver.find_element(
        By.CSS_SELECTOR, "#year-select a.active").text.strip())
    screenshot("bank-credit-list")
    # the bank sees nothing else
    assert status_with_session(driver, base_url + "/ranking") == 403
    assert status_with_session(driver, base_url + f"/api/v1/enterprises/{credit_codes[0][0]}") == 403


# ------------------------------------------------------------------ the enterprise
def test_enterprise_sees_its_own_page_with_class_and_gap(driver, base_url, screenshot):
    sign_in(driver, base_url, *ENTERPRISE)
    open_page(driver, base_url + "/my")
    name = driver.find_element(By.ID, "enterprise-name").text.strip()
    assert name
    badge = driver.find_element(By.ID, "final-class")
    assert badge.get_attribute("data-class") in {"A", "B", "C", "D", "exempt"}
    gap = driver.find_element(By.ID, "gap")
    assert gap.is_displayed() and "提升空间" in gap.text
    if badge.get_attribute("data-class") in {"B", "C", "D"} and not driver.find_elements(By.ID, "gap-barred"):
        assert driver.find_elements(By.CSS_SELECTOR, "#gap-table tr[data-indicator]"), "no per-indicator gap"
    assert driver.find_elements(By.CSS_SELECTOR, "#indicators tr[data-indicator]")
    assert driver.find_element(By.ID, "consent-form").is_displayed()
    assert driver.find_element(By.ID, "my-parcels").is_displayed()
    # the demo's appeals of this enterprise, one of them replied (can be rated)
    states = [r.get_attribute("data-state") for r in driver.find_elements(By.CSS_SELECTOR, "#my-appeals tr[data-appeal-id]")]
    assert states, "the demo enterprise has no appeals"
    # the menu offers no ranking
    assert not driver.find_elements(By.CSS_SELECTOR, "header nav a[href='/ranking']")
    screenshot("enterprise-my")


def test_enterprise_cannot_open_another_enterprise(driver, base_url, credit_codes):
    sign_in(driver, base_url, *ENTERPRISE)
    open_page(driver, base_url + "/my")
    own = driver.find_element(By.ID, "credit-code").text.strip()
    others = [c for c, _ in credit_codes if c != own]
    assert others, "no other enterprise to try"
    other = others[0]
    assert status_with_session(driver, base_url + f"/enterprises/{other}") in (403, 404)
    assert status_with_session(driver, base_url + f"/api/v1/enterprises/{other}") in (403, 404)
    open_page(driver, base_url + f"/enterprises/{other}")
    assert other not in driver.find_element(By.TAG_NAME, "main").text or driver.find_elements(By.ID, "not-found")
    assert not driver.find_elements(By.ID, "final-class")
    # its own page is open to it, the ranking and the bank list are not
    assert status_with_session(driver, base_url + f"/enterprises/{own}") == 200
    assert status_with_session(driver, base_url + "/ranking") == 403
    assert status_with_session(driver, base_url + "/bank") == 403
