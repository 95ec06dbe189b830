"""What a user sees in the browser: the ranking, an enterprise, the rules — checked against
the JSON API of the same server.

Page contract (selectors the server's HTML must keep):
  /                      redirects the headquarters user to /ranking
  /ranking?year=&group=above|below&town=&class=&sort=&order=
      table#ranking-table with rows tr[data-credit-code="…"][data-class], each with td.class
      (A/B/C/D), td.town and td.num.total (the total score, "—" for an enterprise not evaluated);
      select#town (option values are the town names) and select#class (choosing an option
      applies the filter); canvas#class-chart (Chart.js: class counts per town);
      #class-counts[data-a][data-b][data-c][data-d] (counts of the group/year/filter);
      a#export-xlsx (downloads the ranking under the current filters as XLSX);
      th#sort-total reading 总分, whose link sorts by the total score: descending on the first
      click (th#sort-total.sorted.desc), ascending on the second (.sorted.asc).
  /enterprises/{code}?year=   #enterprise-name, #final-class, table#indicators with
      tr[data-indicator="tax_per_mu"] etc., section#gap (提升空间), #history tr[data-year]
  /rules                   pre#rules-yaml, table#weights tr[data-indicator] with td.weight-above
                           and td.weight-below (亩均税收: 30 规上, 50 规下)
  <html lang="zh-…">

Every page is behind sign-in: these tests look at them as the headquarters user `hq` (the
browser signs in through /login; `fetch`/`api` carry hq's session cookie). Every element named
here must be on its page: the helpers fail, naming it, when it is not.
"""
from __future__ import annotations

import io
import re
import time
import urllib.parse
from typing import Callable

import openpyxl  # scripts/install-deps.sh installs it; the export checks need it
import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import attribute, element, elements, open_page

pytestmark = pytest.mark.usefixtures("signed_in_hq")

CLASSES = ("A", "B", "C", "D")
ROW = "#ranking-table tr[data-credit-code]"
CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
NO_SCORE = "—"  # the total-score cell of an enterprise that was not evaluated


# ------------------------------------------------------------------ helpers
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


def ranking_cells(driver, cell_css: str) -> list[tuple[str, str, str | None]]:
    """(credit code, data-class, text of the row's `cell_css` cell or None when the row has
    none) for every visible ranking row, read in one script call."""
    return [tuple(x) for x in driver.execute_script("""
        var cellCss = arguments[1];
        return Array.from(document.querySelectorAll(arguments[0]))
          .filter(function (r) { return r.offsetParent !== null; })
          .map(function (r) { var c = r.querySelector(cellCss);
                              return [r.getAttribute('data-credit-code'), r.getAttribute('data-class'),
                                      c ? c.textContent.trim() : null]; });
    """, ROW, cell_css)]


def cells_of_every_row(driver, cell_css: str, what: str) -> list[tuple[str, str, str]]:
    """ranking_cells, failing when there are no rows or a row lacks the cell."""
    cells = ranking_cells(driver, cell_css)
    assert cells, f"the ranking shows no rows at {driver.current_url}"
    lacking = [code for code, _, text in cells if text is None]
    assert not lacking, f"{len(lacking)} rows have no {what} ({cell_css}) at {driver.current_url}, e.g. {lacking[:3]}"
    return cells


def shown_class(data_class: str) -> str:
    """What td.class reads for a row's data-class: the letter, or 不参评 (not evaluated)."""
    return "不参评" if data_class == "exempt" else data_class


def class_letter(text: str) -> str:
    m = re.search(r"(?<![A-Za-z])([ABCD])(?![A-Za-z])", text)
    assert m, f"no class letter in {text!r}"
    return m.group(1)


def api_count(api, year: int, **query) -> int:
    return int(api("/api/v1/results", year=year, page=1, per=1, **query)["total"])


def class_counts(driver) -> dict[str, int]:
    counts = element(driver, "#class-counts", "the class counts")
    return {c: int(attribute(counts, f"data-{c.lower()}", "#class-counts")) for c in CLASSES}


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
    # (empty filters are left out, as the pages' scripts do: the API refuses `class=` with 400)
    data = api("/api/v1/results", year=year, group="above", page=1, per=50)
    assert set(data) >= {"items", "total", "page", "per"}
    assert data["page"] == 1 and data["per"] == 50
    assert 0 < len(data["items"]) <= 50 and data["total"] >= len(data["items"])
    for item in data["items"]:
        assert set(item) >= {"credit_code", "name", "town", "group", "total_score", "rank", "class"}, item.keys()
        assert CODE_RE.match(item["credit_code"]), item["credit_code"]


# ------------------------------------------------------------------ pages
def test_root_leads_to_the_ranking(driver, base_url) -> None:
    open_page(driver, base_url + "/")
    assert urllib.parse.urlparse(driver.current_url).path == "/ranking", \
        f"/ should bring the headquarters user to /ranking, not {driver.current_url}"
    element(driver, "table#ranking-table", "the ranking table")


def test_ranking_page_has_its_parts(driver, base_url, year, screenshot) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    missing = [css for css in ("table#ranking-table", "select#town", "select#class", "canvas#class-chart",
                               "#class-counts", "a#export-xlsx", "th#sort-total")
               if not driver.find_elements(By.CSS_SELECTOR, css)]
    assert not missing, f"missing on the ranking page {driver.current_url}: {missing}"
    classes = cells_of_every_row(driver, "td.class", "class cell")
    bad_codes = [code for code, _, _ in classes if not CODE_RE.match(code or "")]
    assert not bad_codes, f"rows whose data-credit-code is not a credit code: {bad_codes[:5]}"
    bad = [(code, cls, text) for code, cls, text in classes
           if cls not in (*CLASSES, "exempt") or text != shown_class(cls)]
    assert not bad, f"rows whose td.class does not read their data-class (code, data-class, text): {bad[:5]}"
    assert sum(cls in CLASSES for _, cls, _ in classes) >= 10, "the ranking shows fewer than 10 evaluated rows"
    lang = driver.execute_script("return document.documentElement.lang") or ""
    assert lang.lower().startswith("zh"), f"<html lang> is {lang!r}; the UI is Simplified Chinese"
    assert re.search(r"[\u4e00-\u9fff]", driver.find_element(By.TAG_NAME, "body").text)
    wait_for(driver, lambda d: d.execute_script("return typeof Chart !== 'undefined'"), 15)
    time.sleep(0.5)  # let the chart finish its animation before the picture
    screenshot("ranking")


@pytest.mark.parametrize("group", ["above", "below"])
def test_class_counts_equal_the_api(driver, base_url, api, year, group) -> None:
    open_page(driver, ranking_url(base_url, year, group=group))
    shown = class_counts(driver)
    expected = {c: api_count(api, year, group=group, **{"class": c}) for c in CLASSES}
    assert shown == expected
    assert sum(expected.values()) > 0


@pytest.fixture(scope="module")
def known_enterprise(api, year, first_items) -> dict:
    """The first evaluated enterprise of the above-size group, with its API detail."""
    item = first_items["above"]
    detail = api(f"/api/v1/enterprises/{item['credit_code']}", year=year)
    assert set(detail) >= {"result", "history"}, detail.keys()
    return {**item, "detail": detail}


def open_enterprise(driver, base_url: str, year: int, code: str) -> None:
    open_page(driver, f"{base_url}/enterprises/{code}?year={year}")
    assert urllib.parse.urlparse(driver.current_url).path == f"/enterprises/{code}", driver.current_url


def test_enterprise_api_detail_agrees_with_the_list(known_enterprise) -> None:
    assert known_enterprise["detail"]["result"]["final_class"] == known_enterprise["class"]


def test_enterprise_page_shows_its_name_and_class(driver, base_url, year, known_enterprise) -> None:
    open_enterprise(driver, base_url, year, known_enterprise["credit_code"])
    assert known_enterprise["name"] in element(driver, "#enterprise-name", "the enterprise name").text
    assert class_letter(element(driver, "#final-class", "the final class").text) == known_enterprise["class"]


def test_enterprise_page_lists_the_six_indicators(driver, base_url, year, known_enterprise) -> None:
    open_enterprise(driver, base_url, year, known_enterprise["credit_code"])
    rows = elements(driver, "#indicators tr[data-indicator]", "the indicator rows")
    keys = {attribute(tr, "data-indicator") for tr in rows}
    assert keys >= {"tax_per_mu", "va_per_mu", "va_per_energy", "va_per_emission",
                    "labour_productivity", "rnd_ratio"}, keys


def test_enterprise_page_has_the_gap_section(driver, base_url, year, known_enterprise) -> None:
    open_enterprise(driver, base_url, year, known_enterprise["credit_code"])
    gap = element(driver, "#gap", "the 提升空间 (gap) section")
    assert "提升空间" in gap.text, gap.text


def test_enterprise_history_shows_every_year_of_the_api(driver, base_url, year, known_enterprise) -> None:
    history = known_enterprise["detail"]["history"]
    assert isinstance(history, list) and len(history) >= 2, f"the demo city has 3 years; API history: {history}"
    api_years = sorted(h["year"] for h in history)
    open_enterprise(driver, base_url, year, known_enterprise["credit_code"])
    shown = sorted(int(attribute(tr, "data-year"))
                   for tr in elements(driver, "#history tr[data-year]", "the history rows"))
    assert shown == api_years, f"#history shows years {shown}, the API {api_years}"


def test_below_size_enterprise_shows_its_two_indicators(driver, base_url, year, first_items) -> None:
    item = first_items["below"]
    open_enterprise(driver, base_url, year, item["credit_code"])
    keys = {attribute(tr, "data-indicator")
            for tr in elements(driver, "#indicators tr[data-indicator]", "the indicator rows")}
    assert keys >= {"tax_per_mu", "tax_per_kwh"}, keys
    assert class_letter(element(driver, "#final-class", "the final class").text) == item["class"]


@pytest.fixture(scope="module")
def town_of_part(api, api_all, year, first_items) -> tuple[str, set[str]]:
    """A town holding part of the below-size group, and the credit codes the API lists for it."""
    town = first_items["below"]["town"]
    in_town = {i["credit_code"] for i in api_all(year=year, group="below", town=town)}
    assert 0 < len(in_town) < api_count(api, year, group="below"), f"{town} should hold part of the group"
    return town, in_town


def test_town_filter_in_the_url_narrows_rows_to_that_town(driver, base_url, year, town_of_part) -> None:
    town, in_town = town_of_part
    open_page(driver, ranking_url(base_url, year, group="below", town=town))
    codes = visible_codes(driver)
    assert codes, f"no rows for {town} at {driver.current_url}"
    assert set(codes) <= in_town, f"rows of other towns shown: {sorted(set(codes) - in_town)[:5]}"


def test_town_filter_in_the_url_shows_only_that_town_in_the_town_column(driver, base_url, year, town_of_part) -> None:
    town, _ = town_of_part
    open_page(driver, ranking_url(base_url, year, group="below", town=town))
    cells = cells_of_every_row(driver, "td.town", "town cell")
    other = [(code, text) for code, _, text in cells if text != town]
    assert not other, f"rows whose town is not {town}: {other[:5]}"


def test_choosing_a_town_in_the_select_filters(driver, base_url, year, town_of_part) -> None:
    town, in_town = town_of_part
    open_page(driver, ranking_url(base_url, year, group="below"))
    assert not set(visible_codes(driver)) <= in_town, "the unfiltered page should show other towns too"
    select = Select(element(driver, "select#town", "the town filter"))
    values = [o.get_attribute("value") for o in select.options]
    assert town in values, f"select#town has no option with value {town!r}: {values}"
    select.select_by_value(town)
    wait_for(driver, lambda d: (codes := visible_codes(d)) and set(codes) <= in_town, 20,
             f"choosing {town} in select#town did not narrow the rows to {town}")


def test_class_filter_narrows_rows_to_that_class(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above", **{"class": "B"}))
    cells = cells_of_every_row(driver, "td.class", "class cell")
    other = [(code, cls, text) for code, cls, text in cells if (cls, text) != ("B", "B")]
    assert not other, f"rows that are not class B (code, data-class, td.class): {other[:5]}"


def test_class_filter_keeps_the_count_of_that_class(driver, base_url, api, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above", **{"class": "B"}))
    assert class_counts(driver)["B"] == api_count(api, year, group="above", **{"class": "B"})


def test_class_chart_is_drawn(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    wait_for(driver, lambda d: d.execute_script("return typeof Chart !== 'undefined'"), 15,
             "Chart.js is not loaded")
    canvas = element(driver, "canvas#class-chart", "the class chart")
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
    href = attribute(element(driver, "a#export-xlsx", "the XLSX export link"), "href", "a#export-xlsx")
    assert href, "a#export-xlsx has an empty href"
    header, codes = _xlsx_codes(fetch(href))
    assert len(codes) == api_count(api, year, **query), f"export rows vs API total for {query}"
    assert set(codes) == {i["credit_code"] for i in api_all(year=year, **query)}


def test_rules_page_shows_the_rules_yaml(driver, base_url) -> None:
    open_page(driver, base_url + "/rules")
    assert "tax_per_mu" in element(driver, "pre#rules-yaml", "the rules in force (YAML)").text


def test_rules_page_shows_the_weights_of_tax_per_mu(driver, base_url) -> None:
    open_page(driver, base_url + "/rules")
    row = element(driver, '#weights tr[data-indicator="tax_per_mu"]', "the 亩均税收 row of the weights table")
    assert "亩均税收" in row.text
    assert element(row, "td.weight-above", "the 规上 weight of 亩均税收").text.strip() == "30"
    assert element(row, "td.weight-below", "the 规下 weight of 亩均税收").text.strip() == "50"


# ------------------------------------------------------------------ sorting by the total score
def totals_in_row_order(driver) -> list[float | None]:
    """The total score of every visible row (None for 不参评, shown as —); every row must have one."""
    out = []
    for code, cls, text in cells_of_every_row(driver, "td.num.total", "total-score cell"):
        if text == NO_SCORE:
            assert cls == "exempt", f"{code} (class {cls}) shows no total score"
            out.append(None)
        else:
            assert re.fullmatch(r"-?\d+(?:\.\d+)?", text.replace(",", "")), f"{code}: total score {text!r}"
            out.append(float(text.replace(",", "")))
    return out


def click_total_header(driver, order: str) -> None:
    """Clicks the 总分 header's link and waits for the page sorted by it in `order` (asc/desc)."""
    header = element(driver, "#ranking-table th#sort-total", "the 总分 (total score) column header")
    assert "总分" in header.text, f"th#sort-total reads {header.text!r}"
    element(header, "a", "the sorting link of the 总分 header").click()
    wait_for(driver, lambda d: {"sorted", order} <= set(
        (d.find_element(By.CSS_SELECTOR, "th#sort-total").get_attribute("class") or "").split()), 20,
        f"after clicking 总分 the column is not marked sorted {order} (th#sort-total.sorted.{order})")


def check_sorted(totals: list[float | None], descending: bool) -> None:
    scores = [t for t in totals if t is not None]
    assert len(scores) >= 10, f"only {len(scores)} rows have a total score"
    first_none = totals.index(None) if None in totals else len(totals)
    assert all(t is None for t in totals[first_none:]), "rows without a score (—) must come after the scored ones"
    assert scores == sorted(scores, reverse=descending), \
        f"totals are not {'descending' if descending else 'ascending'}: {scores[:10]}…"


def test_first_click_on_the_total_score_header_sorts_descending(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    click_total_header(driver, "desc")
    check_sorted(totals_in_row_order(driver), descending=True)


def test_second_click_on_the_total_score_header_sorts_ascending(driver, base_url, year) -> None:
    open_page(driver, ranking_url(base_url, year, group="above"))
    before = visible_codes(driver)
    click_total_header(driver, "desc")
    click_total_header(driver, "asc")
    check_sorted(totals_in_row_order(driver), descending=False)
    assert visible_codes(driver)[0] != before[0], "the lowest total now comes first, not the rank-1 enterprise"


@pytest.mark.parametrize("page", ["ranking", "enterprise", "rules"])
def test_pages_have_no_javascript_errors(driver, base_url, year, first_items, page) -> None:
    url = {"ranking": ranking_url(base_url, year, group="above"),
           "enterprise": f"{base_url}/enterprises/{first_items['above']['credit_code']}?year={year}",
           "rules": f"{base_url}/rules"}[page]
    driver.get_log("browser")  # drop what earlier pages logged (Chromium's driver keeps the log)
    open_page(driver, url)
    time.sleep(1)
    errors = [e for e in driver.get_log("browser")
              if e.get("level") == "SEVERE" and "favicon" not in e.get("message", "")]
    assert not errors, "\n".join(e["message"] for e in errors)
