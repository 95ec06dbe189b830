"""The cross-township quota ledger (全域土地综合整治, issue 11) in a real browser, against the demo
server: the pilot town 古山镇 asks to move reclaimed-construction quota to 舟山镇 — 0.0001 mu more
than its balance is refused with the rule and the figures and nothing is written — then asks for
exactly its balance; HQ approves it on the same page; the balance sheet, the journal, the chart
and the gauges show it. The journal's filter and both Excel exports work. A department other
than natural resources sees no project.

Page contract (selectors the server's HTML must keep):
  /quota      table#quota-projects rows tr[data-id] with a link
  /quota/:id  table#balance-sheet rows tr[data-town][data-quota] td.balance; canvas#chart-quota[data-drawn];
              div#quota-map[data-features] (the sub-projects' parcels, drawn by map.js);
              meter#gauge-basic[data-added][data-required], meter#gauge-grade[data-credited][data-used];
              table#transfer-table rows tr[data-id][data-state] td.transfer-state, form.decide-form
              (input[name=note], button.approve, button.reject); form#transfer-form (select#t-from, select#t-to,
              select#t-quota, input#t-amount, input#t-reason, button#transfer-submit); p#form-error;
              form#journal-filter (select#f-town, select#f-quota, select#f-action); table#journal-table rows
              tr[data-seq][data-action] td.basis a[data-subproject]|a[data-transfer]; a#export-balances, a#export-journal
"""
from __future__ import annotations

import time
import zipfile
import io

from selenium.webdriver.support.ui import Select

from conftest import attribute, click_through, element, elements, http_get, http_login, open_page, wait_for
from conftest import DEMO_ACCOUNTS
from test_cases import as_user


def project_url(driver, base_url: str) -> str:
    open_page(driver, base_url + "/quota")
    rows = elements(driver, "#quota-projects tr[data-id]", "the consolidation projects")
    return element(rows[0], "a", "the project's link").get_attribute("href")


def balance(driver, town: str, quota: str) -> str:
    rows = [r for r in elements(driver, "#balance-sheet tr[data-town]", "the balance sheet", at_least=9)
            if attribute(r, "data-town") == town and attribute(r, "data-quota") == quota]
    assert rows, f"no balance line for {town} {quota}"
    return element(rows[0], "td.balance", "the balance").text


def request_transfer(driver, amount: str, reason: str) -> None:
    Select(element(driver, "select#t-to", "the receiving town")).select_by_value("舟山镇")
    Select(element(driver, "select#t-quota", "the quota type")).select_by_value("reclaimed_construction")
    amount_input = element(driver, "input#t-amount", "the amount")
    amount_input.clear()
    amount_input.send_keys(amount)
    reason_input = element(driver, "input#t-reason", "the reason")
    reason_input.clear()
    reason_input.send_keys(reason)
    click_through(driver, element(driver, "button#transfer-submit", "the request button"))


def test_a_town_requests_a_transfer_and_hq_approves_it(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "gushan")
    url = project_url(driver, base_url)
    open_page(driver, url)
    before = balance(driver, "古山镇", "reclaimed_construction")
    zhoushan_before = balance(driver, "舟山镇", "reclaimed_construction")
    assert before != "0.0000", "古山镇 has reclaimed-construction quota to transfer"
    assert attribute(element(driver, "canvas#chart-quota", "the chart"), "data-drawn") == "3"
    basic = element(driver, "meter#gauge-basic", "the basic-farmland gauge")
    assert attribute(basic, "data-added") and attribute(basic, "data-required")
    grade = element(driver, "meter#gauge-grade", "the grade gauge")
    assert float(attribute(grade, "data-credited")) <= float(attribute(grade, "data-used")), "quality does not fall"
    # the town transfers from its own balance only
    assert [o.get_attribute("value") for o in Select(element(driver, "select#t-from")).options] == ["古山镇"]
    pending = len([r for r in elements(driver, "#transfer-table tr[data-state]", "the transfers") if attribute(r, "data-state") == "requested"])
    # 0.0001 mu over the balance: refused with the rule and the figures, nothing written
    over = f"{float(before) + 0.0001:.4f}"
    request_transfer(driver, over, "五金园区用地")
    error = wait_for(driver, "p#form-error", "the refusal").text
    assert "规则5" in error and before in error and over in error, error
    open_page(driver, url)
    assert len([r for r in elements(driver, "#transfer-table tr[data-state]") if attribute(r, "data-state") == "requested"]) == pending
    # exactly the balance: requested, awaiting HQ, nothing posted yet
    request_transfer(driver, before, "古山镇节余指标支持舟山镇")
    open_page(driver, url)
    rows = [r for r in elements(driver, "#transfer-table tr[data-state]") if attribute(r, "data-state") == "requested"]
    assert len(rows) == pending + 1
    assert balance(driver, "古山镇", "reclaimed_construction") == before
    new_id = max(int(attribute(r, "data-id")) for r in rows)
    screenshot("quota-transfer-requested")

    # HQ approves it on the page: both sides move as one entry
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    row = [r for r in elements(driver, "#transfer-table tr[data-id]") if attribute(r, "data-id") == str(new_id)][0]
    click_through(driver, element(row, "button.approve", "the approve button"))
    open_page(driver, url)
    row = [r for r in elements(driver, "#transfer-table tr[data-id]") if attribute(r, "data-id") == str(new_id)][0]
    assert attribute(row, "data-state") == "approved"
    assert balance(driver, "古山镇", "reclaimed_construction") == "0.0000"
    assert float(balance(driver, "舟山镇", "reclaimed_construction")) == float(zhoushan_before) + float(before)
    newest = elements(driver, "#journal-table tr[data-seq]", "the journal")[0]
    assert attribute(newest, "data-action") == "transfer"
    assert attribute(element(newest, "td.basis a[data-transfer]", "the entry's approval"), "data-transfer") == str(new_id)
    screenshot("quota-balances")
    # a rejection needs a reason: the other pending request stays
    others = [r for r in elements(driver, "#transfer-table tr[data-state]") if attribute(r, "data-state") == "requested"]
    if others:
        click_through(driver, element(others[0], "button.reject", "the reject button"))
        assert "理由" in wait_for(driver, "p#form-error", "the refusal").text


def test_the_journal_filters_and_both_tables_export(driver, base_url) -> None:
    as_user(driver, base_url, "hq")
    url = project_url(driver, base_url)
    open_page(driver, url)
    all_rows = len(elements(driver, "#journal-table tr[data-seq]", "the journal", at_least=10))
    Select(element(driver, "select#f-action", "the action filter")).select_by_value("reverse")
    click_through(driver, element(driver, "form#journal-filter button", "the filter button"))
    rows = elements(driver, "#journal-table tr[data-seq]", "the reversals")
    assert 0 < len(rows) < all_rows and all(attribute(r, "data-action") == "reverse" for r in rows)
    cookie = http_login(base_url, "hq", DEMO_ACCOUNTS["hq"])
    for css, sheet in (("a#export-balances", "余额表"), ("a#export-journal", "台账流水")):
        href = element(driver, css, "the export link").get_attribute("href")
        status, headers, body = http_get(base_url, href.replace(base_url, ""), cookie)
        assert status == 200 and "spreadsheetml" in headers.get("content-type", ""), (status, headers)
        names = zipfile.ZipFile(io.BytesIO(body)).read("xl/workbook.xml").decode("utf-8")
        assert sheet in names, names


def test_a_department_other_than_natural_resources_sees_no_project(driver, base_url) -> None:
    as_user(driver, base_url, "tax")
    open_page(driver, base_url + "/quota")
    assert not driver.find_elements("css selector", "#quota-projects tr[data-id]"), "a department other than natural resources sees nothing"


def credited(driver, town: str, quota: str) -> float:
    rows = [r for r in elements(driver, "#balance-sheet tr[data-town]", "the balance sheet", at_least=9)
            if attribute(r, "data-town") == town and attribute(r, "data-quota") == quota]
    assert rows, f"no balance line for {town} {quota}"
    return float(rows[0].find_elements("css selector", "td")[2].text)


def test_hq_accepts_an_underway_sub_project_and_its_quota_is_credited(driver, base_url, screenshot) -> None:
    # 古山镇 sees the sub-projects but acts only on its own
    as_user(driver, base_url, "gushan")
    url = project_url(driver, base_url)
    open_page(driver, url)
    rows = elements(driver, "#subproject-table tr[data-status]", "the sub-projects", at_least=3)
    assert {attribute(r, "data-status") for r in rows} >= {"approved", "underway", "accepted"}
    for r in rows:
        if attribute(r, "data-town") != "古山镇":
            assert not r.find_elements("css selector", "form"), "a town acts on its own sub-projects only"
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    # the sub-projects' parcels on the page's map (two per sub-project in the demo)
    drawn = wait_for(driver, "#quota-map[data-features]", "the sub-projects' map")
    assert int(attribute(drawn, "data-features")) >= 3
    row = [r for r in elements(driver, "#subproject-table tr[data-status]") if attribute(r, "data-status") == "underway"][0]
    town = attribute(row, "data-town")
    planned = float(row.find_elements("css selector", "td")[5].text)
    before = credited(driver, town, "reclaimed_construction")
    click_through(driver, element(row, "form.accept-form button", "the accept button"))
    open_page(driver, url)
    statuses = {attribute(r, "data-town"): attribute(r, "data-status") for r in elements(driver, "#subproject-table tr[data-status]")}
    assert statuses[town] == "accepted"
    assert credited(driver, town, "reclaimed_construction") == before + planned
    newest = elements(driver, "#journal-table tr[data-seq]")[0]
    assert "验收" in newest.text
    assert element(newest, "td.basis a[data-subproject]", "the entry's sub-project link").get_attribute("href").rsplit("/", 2)[-2] == "projects"
    screenshot("quota-subprojects")
