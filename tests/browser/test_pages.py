"""What a user sees in the browser: the ranking, an enterprise, the rules — checked against
the JSON API of the same server.

Page contract (selectors the server's HTML must keep):
  /                      redirects to /ranking, or links to it (a[href*="/ranking"])
  /ranking?year=&group=above|below&town=&class=
      table#ranking-table with rows tr[data-credit-code="…"], each with td.class (A/B/C/D);
      select#town and select#class (choosing an option applies the filter);
      canvas#class-chart (Chart.js: class counts per town);
      #class-counts[data-a][data-b][data-c][data-d] (counts of the group/year/filter);
      a#export-xlsx (downloads the ranking under the current filters as XLSX);
      the total-score column header th[data-sort="total_score"] (or a th reading 总分)
      reverses the order when clicked; optional td.total-score / td.town cells are checked
      when present.
  /enterprises/{code}?year=   #enterprise-name, #final-class, table#indicators with
      tr[data-indicator="tax_per_mu"] etc., #history, #gap
  /rules                   pre#rules-yaml or a table, showing 亩均税收 and its weight 30
  <html lang="zh-…">

Every page is behind sign-in: these tests look at them as the headquarters user `hq` (the
browser signs in through /login; `fetch`/`api` carry hq's session cookie).
"""
from __future__ import annotations

import io
import re
import time
from typing import Callable

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.usefixtures("signed_in_hq")

CLASSES = ("A", "B", "C", "D")
ROW = "#ranking-table tr[data-credit-code]"
CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


# ------------------------------------------------------------------ helpers
def open_page(driver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def visible_rows(driver) -> list:
    return [r for r in driver.find_elements(By.CSS_SELECTOR, ROW) if r.is_displayed()]


def visible_codes(driver) -> list[str]:
    return [r.get_attribute("data-credit-code") for r in visible_rows(driver)]


def wait_for(driver, condition: Callable, timeout: float = 15, message: str = ""):
    def safe(d):
        try:
            return condition(d)
        except (StaleElementReferenceException, WebDriverException):
            return False
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(safe, message)


def ranking_url(base_url: str, year: int, **query: str) -> str:
    from urllib.parse import urlencode
    return f"{base_url}/ranking?" + urlencode({"year": year, **query})


def class_letter(text: str) -> str:
    m = re.search(r"(?<![A-Za-z])([ABCD])(?![A-Za-z])", text)
    assert m, f"no class letter in {text!r}"
    return m.group(1)


def api_count(api, year: int, **query) -> int:
    return int(api("/api/v1/results", year=year, page=1, per=1, **query)["total"])


@pytest.fixture(scope="module")
def first_items(api, year) -> dict[str, dict]:
    """The first item (with a class) of each group, as the API lists it."""
    out = {}
    for group in ("above", "below"):
        data = api("/api/v1/results", year=year, group=group, page=1, per=50)
        with_class = [i for i in data["items"] if i.get("class")]
        assert with_class, f"the API lists no evaluated enterprise for {year} {group}"
        out[group] = with_class[0]
    return out


# ------------------------------------------------------------------ API shape (what the pages are checked against)
def test_api_results_shape(api, year) -> None:
    data = api("/api/v1/results", year=year, group="above", town="", **{"class": ""}, page=1, per=50)
    assert set(data) >= {"items", "total", "page", "per"}
    assert data["page"] == 1 and data["per"] == 50
    assert 0 < len(data["items"]) <= 50 and data["total"] >= len(data["items"])
    for item in data["items"]:
        assert set(item) >= {"credit_code", "name", "town", "group", "total_score", "rank", "class"}, item.keys()
        assert CODE_RE.match(item["credit_code"]), item["credit_code"]


# ------------------------------------------------------------------ pages
def test_root_leads_to_the_ranking(driver, base_url) -> None:
    open_page(driver, base_url + "/")
    if "/ranking" not in driver.current_url:
        links = driver.find_elements(By.CSS_SELECTOR, 'a[href*="/ranking"]')
        assert links, f"/ neither redirects to nor links to /ranking (at {driver.current_url})"


def test_ranking_page_has_its_parts(driver, base_url, year, screenshot) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    for css in ("table#ranking-table", "select#town", "select#class", "canvas#class-chart",
                "#class-counts", "a#export-xlsx"):
        assert driver.find_elements(By.CSS_SELECTOR, css), f"{css} missing on the ranking page"
    rows = visible_rows(driver)
    assert rows, "the ranking shows no rows"
    for row in rows[:50]:
        code = row.get_attribute("data-credit-code")
        assert CODE_RE.match(code or ""), code
        assert row.find_element(By.CSS_SELECTOR, "td.class").text.strip() in CLASSES
    lang = driver.execute_script("return document.documentElement.lang") or ""
    assert lang.lower().startswith("zh"), f"<html lang> is {lang!r}; the UI is Simplified Chinese"
    assert re.search(r"[\u4e00-\u9fff]", driver.find_element(By.TAG_NAME, "body").text)
    wait_for(driver, lambda d: d.execute_script("return typeof Chart !== 'undefined'"), 15)
    time.sleep(0.5)  # let the chart finish its animation before the picture
    screenshot("ranking")


@pytest.mark.parametrize("group", ["above", "below"])
def test_class_counts_equal_the_api(driver, base_url, api, year, group) -> None:
    open_page(driver, ranking_url(base_url, year, group=group))
    counts = driver.find_element(By.CSS_SELECTOR, "#class-counts")
    shown = {c: int(counts.get_attribute(f"data-{c.lower()}")) for c in CLASSES}
    expected = {c: api_count(api, year, group=group, **{"class": c}) for c in CLASSES}
    assert shown == expected
    assert sum(expected.values()) > 0


def test_known_enterprise_shows_the_api_class(driver, base_url, api, year, first_items) -> None:
    item = first_items["above"]
    code = item["credit_code"]
    detail = api(f"/api/v1/enterprises/{code}", year=year)
    assert set(detail) >= {"result", "history"}
    assert detail["result"]["final_class"] == item["class"]

    open_page(driver, f"{base_url}/enterprises/{code}?year={year}")
    assert item["name"] in driver.find_element(By.CSS_SELECTOR, "#enterprise-name").text
    assert class_letter(driver.find_element(By.CSS_SELECTOR, "#final-class").text) == item["class"]
    indicators = driver.find_elements(By.CSS_SELECTOR, "#indicators tr[data-indicator]")
    keys = {tr.get_attribute("data-indicator") for tr in indicators}
    assert keys >= {"tax_per_mu", "va_per_mu", "va_per_energy", "va_per_emission",
                    "labour_productivity", "rnd_ratio"}, keys
    assert driver.find_elements(By.CSS_SELECTOR, "#gap")
    history = driver.find_element(By.CSS_SELECTOR, "#history").text
    for h in detail["history"]:
        y = h.get("year") if isinstance(h, dict) else None
        if y is not None:
            assert str(y) in history, f"year {y} of the API history not shown in #history"


def test_below_size_enterprise_shows_its_two_indicators(driver, base_url, year, first_items) -> None:
    item = first_items["below"]
    open_page(driver, f"{base_url}/enterprises/{item['credit_code']}?year={year}")
    keys = {tr.get_attribute("data-indicator")
            for tr in driver.find_elements(By.CSS_SELECTOR, "#indicators tr[data-indicator]")}
    assert keys >= {"tax_per_mu", "tax_per_kwh"}, keys
    assert class_letter(driver.find_element(By.CSS_SELECTOR, "#final-class").text) == item["class"]


def test_town_filter_in_the_url_narrows_rows_to_that_town(driver, base_url, api, api_all, year, first_items) -> None:
    town = first_items["below"]["town"]
    in_town = {i["credit_code"] for i in api_all(year=year, group="below", town=town)}
    assert 0 < len(in_town) < api_count(api, year, group="below"), "pick a town holding part of the group"
    open_page(driver, ranking_url(base_url, year, group="below", town=town))
    codes = visible_codes(driver)
    assert codes, "no rows for the town"
    assert set(codes) <= in_town, f"rows of other towns shown: {sorted(set(codes) - in_town)[:5]}"
    for cell in driver.find_elements(By.CSS_SELECTOR, f"{ROW} td.town"):
        if cell.is_displayed():
            assert cell.text.strip() == town


def test_choosing_a_town_in_the_select_filters(driver, base_url, api_all, year, first_items) -> None:
    town = first_items["below"]["town"]
    in_town = {i["credit_code"] for i in api_all(year=year, group="below", town=town)}
    open_page(driver, ranking_url(base_url, year, group="below"))
    assert not set(visible_codes(driver)) <= in_town, "the unfiltered page should show other towns too"
    select = Select(driver.find_element(By.CSS_SELECTOR, "select#town"))
    values = [o.get_attribute("value") for o in select.options]
    if town in values:
        select.select_by_value(town)
    else:
        select.select_by_visible_text(town)
    wait_for(driver, lambda d: (codes := visible_codes(d)) and set(codes) <= in_town, 20,
             f"choosing {town} in select#town did not narrow the rows to {town}")


def test_class_filter_narrows_rows_to_that_class(driver, base_url, api, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above", **{"class": "B"}))
    rows = visible_rows(driver)
    assert rows
    assert {r.find_element(By.CSS_SELECTOR, "td.class").text.strip() for r in rows} == {"B"}
    counts = driver.find_element(By.CSS_SELECTOR, "#class-counts")
    assert int(counts.get_attribute("data-b")) == api_count(api, year, group="above", **{"class": "B"})


def test_class_chart_is_drawn(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    wait_for(driver, lambda d: d.execute_script("return typeof Chart !== 'undefined'"), 15,
             "Chart.js is not loaded")
    canvas = driver.find_element(By.CSS_SELECTOR, "canvas#class-chart")
    assert canvas.size["width"] > 0 and canvas.size["height"] > 0
    wait_for(driver, lambda d: d.execute_script(
        "const c = document.querySelector('canvas#class-chart');"
        "return !!(window.Chart && Chart.getChart && Chart.getChart(c));"), 15,
        "no Chart.js chart is attached to canvas#class-chart")
    # something is painted: the canvas differs from a blank one of the same size
    wait_for(driver, lambda d: d.execute_script(
        "const c = document.querySelector('canvas#class-chart');"
        "const b = document.createElement('canvas'); b.width = c.width; b.height = c.height;"
        "return c.width > 0 && c.toDataURL() !== b.toDataURL();"), 15, "the chart canvas is blank")


def _xlsx_codes(body: bytes) -> tuple[list[str], list[str]]:
    openpyxl = pytest.importorskip("openpyxl")
    assert body[:2] == b"PK", f"not an XLSX (zip) file: {body[:20]!r}"
    wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    rows = [["" if v is None else str(v).strip() for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
    header_at = next((n for n, r in enumerate(rows[:10]) if "统一社会信用代码" in r), None)
    assert header_at is not None, f"no header row with 统一社会信用代码 in {rows[:3]}"
    header = rows[header_at]
    col = header.index("统一社会信用代码")
    codes = [r[col] for r in rows[header_at + 1:] if len(r) > col and CODE_RE.match(r[col])]
    return header, codes


@pytest.mark.parametrize("with_town", [False, True], ids=["group", "group-and-town"])
def test_export_link_downloads_the_filtered_ranking_as_xlsx(driver, base_url, fetch, api, api_all, year,
                                                            first_items, with_town) -> None:
    query = {"group": "below"}
    if with_town:
        query["town"] = first_items["below"]["town"]
    open_page(driver, ranking_url(base_url, year, **query))
    href = driver.find_element(By.CSS_SELECTOR, "a#export-xlsx").get_attribute("href")
    assert href, "a#export-xlsx has no href"
    header, codes = _xlsx_codes(fetch(href))
    assert len(codes) == api_count(api, year, **query), f"export rows vs API total for {query}"
    assert set(codes) == {i["credit_code"] for i in api_all(year=year, **query)}


def test_rules_page_shows_the_rules_in_force(driver, base_url) -> None:
    open_page(driver, base_url + "/rules")
    assert driver.find_elements(By.CSS_SELECTOR, "pre#rules-yaml") or driver.find_elements(By.CSS_SELECTOR, "table")
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "亩均税收" in text
    assert re.search(r"(?<![\d.])30(?![\d.])", text), "the weight 30 of 亩均税收 is not shown"
    assert re.search(r"(?<![\d.])50(?![\d.])", text), "the weight 50 (规下) is not shown"


def test_clicking_the_total_score_header_reverses_the_order(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    before = visible_codes(driver)
    assert len(before) >= 2

    def header():
        found = driver.find_elements(By.CSS_SELECTOR, '#ranking-table th[data-sort="total_score"]')
        if not found:
            found = [th for th in driver.find_elements(By.CSS_SELECTOR, "#ranking-table th") if "总分" in th.text]
        assert found, 'no total-score header (th[data-sort="total_score"] or a th reading 总分)'
        return found[0]

    def first_changed(d):
        codes = visible_codes(d)
        return codes and codes[0] != before[0]

    header().click()
    try:
        wait_for(driver, first_changed, 8)
    except Exception:
        header().click()  # a first click may only mark the column as sorted (descending)
        wait_for(driver, first_changed, 8, "clicking the total-score header did not change the order")

    scores = []
    for cell in driver.find_elements(By.CSS_SELECTOR, f"{ROW} td.total-score"):
        if cell.is_displayed():
            m = re.search(r"-?\d+(?:\.\d+)?", cell.text.replace(",", ""))
            if m:
                scores.append(float(m.group()))
    if len(scores) >= 2:
        assert scores == sorted(scores), "after the click the totals are not ascending"


@pytest.mark.parametrize("page", ["ranking", "enterprise", "rules"])
def test_pages_have_no_javascript_errors(driver, base_url, year, first_items, page) -> None:
    url = {"ranking": ranking_url(base_url, year, group="above"),
           "enterprise": f"{base_url}/enterprises/{first_items['above']['credit_code']}?year={year}",
           "rules": f"{base_url}/rules"}[page]
    try:
        driver.get_log("browser")  # drop what earlier pages logged
    except Exception:
        pytest.skip("this chromedriver gives no browser log")
    open_page(driver, url)
    time.sleep(1)
    errors = [e for e in driver.get_log("browser")
              if e.get("level") == "SEVERE" and "favicon" not in e.get("message", "")]
    assert not errors, "\n".join(e["message"] for e in errors)
