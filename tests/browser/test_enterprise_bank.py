"""The enterprise's own view (/my) and the bank's credit list (/bank), in a real browser
signed in with the demo accounts that `mujun demo` creates.

Page contract (selectors the server's HTML must keep):
  /my      #enterprise-name, #credit-code, #final-class[data-class], section#gap (提升空间,
           table#gap-table when a better class is reachable), table#indicators, #consent-form,
           #my-parcels, table#my-appeals rows tr[data-appeal-id][data-state]
           header nav (a[href="/my"], no a[href="/ranking"])
  /enterprises/{other code} as the enterprise: section#not-found, no #final-class
  /bank    table#credit-list rows tr[data-credit-code][data-class] (A/B only),
           table#credit-terms-table tr[data-class], #year-select a.active, a#export-xlsx
  /login   #login, #password, #login-submit

The checks that rest on the demo data (qiye is below class A, so its gap table shows; it has a
replied appeal) hold for the browser leg's city, `mujun demo --enterprises 600 --seed 7`.
"""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from conftest import DEMO_ACCOUNTS, attribute, element, elements, login, open_page

ENTERPRISE = ("qiye", DEMO_ACCOUNTS["qiye"])
BANK = ("bank", DEMO_ACCOUNTS["bank"])
SESSION_COOKIE = "mujun_session"


# ------------------------------------------------------------------ helpers
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
    login(driver, base_url, *BANK)
    open_page(driver, base_url + "/bank")
    rows = elements(driver, "#credit-list tr[data-credit-code]", "the rows of the demo's credit list")
    return [(attribute(r, "data-credit-code"), attribute(r, "data-class")) for r in rows]


@pytest.fixture()
def bank_page(driver, base_url: str):
    login(driver, base_url, *BANK)
    open_page(driver, base_url + "/bank")
    return driver


# ------------------------------------------------------------------ the bank
def test_bank_sees_the_credit_list_of_a_b_enterprises(bank_page, credit_codes, screenshot):
    assert "亩均英雄贷名单" in element(bank_page, "h1", "the page title").text
    assert {cls for _, cls in credit_codes} <= {"A", "B"}, credit_codes
    screenshot("bank-credit-list")


def test_bank_list_shows_class_and_total_but_no_tax_land_or_rank(bank_page):
    headers = [th.text.strip() for th in elements(bank_page, "#credit-list thead th", "the credit list's headers")]
    assert "分类" in headers and "总分" in headers, headers
    shown = [hidden for hidden in ("亩均税收", "用地面积", "排名") if any(hidden in h for h in headers)]
    assert not shown, f"the bank sees {shown} (headers {headers})"


def test_bank_sees_the_credit_terms_of_a_and_b(bank_page):
    terms = elements(bank_page, "#credit-terms-table tr[data-class]", "the credit terms rows")
    assert {attribute(t, "data-class") for t in terms} == {"A", "B"}


def test_bank_export_link_is_for_the_year_shown(bank_page):
    year = element(bank_page, "#year-select a.active", "the active year").text.strip()
    href = attribute(element(bank_page, "a#export-xlsx", "the XLSX export link"), "href")
    assert href.endswith(".xlsx?year=" + year), f"{href} is not the export of {year}"


@pytest.mark.parametrize("path", ["/ranking", "/api/v1/enterprises/{code}"])
def test_bank_sees_nothing_else(bank_page, base_url, credit_codes, path):
    url = base_url + path.format(code=credit_codes[0][0])
    assert status_with_session(bank_page, url) == 403, url


# ------------------------------------------------------------------ the enterprise
@pytest.fixture()
def my_page(driver, base_url: str):
    login(driver, base_url, *ENTERPRISE)
    open_page(driver, base_url + "/my")
    return driver


def test_enterprise_sees_its_name_and_class(my_page, screenshot):
    assert element(my_page, "#enterprise-name", "the enterprise name").text.strip()
    badge = element(my_page, "#final-class", "the class badge")
    assert attribute(badge, "data-class") in {"A", "B", "C", "D", "exempt"}
    screenshot("enterprise-my")


def test_enterprise_sees_its_gap_per_indicator(my_page):
    # the demo's qiye (seed 7) is class B in the latest year, so a better class is reachable
    cls = attribute(element(my_page, "#final-class", "the class badge"), "data-class")
    assert cls in {"B", "C", "D"}, f"the demo enterprise qiye is expected below A (it has a gap to show), is {cls}"
    gap = element(my_page, "#gap", "the 提升空间 (gap) section")
    assert gap.is_displayed() and "提升空间" in gap.text
    assert not my_page.find_elements(By.CSS_SELECTOR, "#gap-barred"), "the demo enterprise is not barred from a better class"
    elements(my_page, "#gap-table tr[data-indicator]", "the per-indicator gap rows")


def test_enterprise_sees_its_indicators(my_page):
    elements(my_page, "#indicators tr[data-indicator]", "the indicator rows")


def test_enterprise_sees_its_consent_form_and_parcels(my_page):
    assert element(my_page, "#consent-form", "the credit consent form").is_displayed()
    assert element(my_page, "#my-parcels", "the enterprise's parcels").is_displayed()


def test_enterprise_sees_its_appeals_one_of_them_replied(my_page):
    states = [attribute(r, "data-state")
              for r in elements(my_page, "#my-appeals tr[data-appeal-id]", "the demo enterprise's appeals")]
    assert "replied" in states, f"the demo gives qiye a replied appeal (one it can rate); states: {states}"


def test_enterprise_menu_offers_no_ranking(my_page):
    nav = element(my_page, "header nav", "the menu")
    element(nav, "a[href='/my']", "the 本企业评价 menu entry")
    assert not nav.find_elements(By.CSS_SELECTOR, "a[href='/ranking']"), "the enterprise's menu links to the ranking"


@pytest.fixture()
def own_and_other(driver, base_url: str, credit_codes) -> tuple[str, str]:
    """Signed in as the enterprise: (its own credit code, another enterprise's)."""
    login(driver, base_url, *ENTERPRISE)
    open_page(driver, base_url + "/my")
    own = element(driver, "#credit-code", "the enterprise's credit code").text.strip()
    others = [c for c, _ in credit_codes if c != own]
    assert others, "no other enterprise on the credit list to try"
    return own, others[0]


@pytest.mark.parametrize("path", ["/enterprises/{code}", "/api/v1/enterprises/{code}"])
def test_enterprise_cannot_open_another_enterprise(driver, base_url, own_and_other, path):
    _, other = own_and_other
    assert status_with_session(driver, base_url + path.format(code=other)) in (403, 404)


def test_enterprise_sees_not_found_for_another_enterprise(driver, base_url, own_and_other):
    _, other = own_and_other
    open_page(driver, base_url + f"/enterprises/{other}")
    element(driver, "section#not-found", "the not-found section")
    assert not driver.find_elements(By.CSS_SELECTOR, "#final-class"), "another enterprise's class is shown"


@pytest.mark.parametrize("path,expected", [("/enterprises/{own}", 200), ("/ranking", 403), ("/bank", 403)])
def test_enterprise_may_open_only_its_own_page(driver, base_url, own_and_other, path, expected):
    own, _ = own_and_other
    url = base_url + path.format(own=own)
    assert status_with_session(driver, url) == expected, url
