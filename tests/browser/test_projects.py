"""Projects (项目推进, issue 10) in a real browser, against the demo server: the demo town's
first project is late only because a monthly report is missing, so a 督办 case is open for
古山镇; the town files the report (with a photo) and the engine closes the case.

Page contract (selectors the server's HTML must keep):
  /projects        table#rollup-table rows tr[data-town]; p#city-total[data-projects][data-late];
                   table#projects-table rows tr[data-project][data-ref][data-state] with span.pstate;
                   HQ only: form#supervise-form (button#supervise-button), form#import-form
  /map?layer=project  #legend li[data-key] (late, on_track, not_started, completed, none) .legend-n;
                   the card's ul.card-projects li[data-state] with ul.project-late li, a.case-link, a.project-link
  /projects/:id    h1#page-title, span.pstate[data-state], section#late-reasons li,
                   table#project-cases-table rows tr[data-case-id][data-state],
                   table#milestones-table rows tr[data-seq][data-done],
                   form#report-form: select#report-month, textarea#report-text, input#report-invested,
                   input#report-photos, button#report-submit; section#reports div.report[data-month] img.photo,
                   table#history-table rows tr[data-kind]
"""
from __future__ import annotations

import struct
import time
import zlib

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from selenium.webdriver.support.ui import WebDriverWait

from conftest import attribute, click_through, element, elements, open_page, upload
from test_cases import as_user
from test_map import click_parcel, features, legend_keys, open_map


def png() -> bytes:
    """A 2×2 PNG (a real image: the server checks the file's signature)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xc6\x28\x28" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_the_headquarters_sees_every_town_rolled_up(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/projects")
    total = element(driver, "p#city-total", "the city's total")
    assert int(attribute(total, "data-projects", "the city's total")) >= 8
    assert int(attribute(total, "data-late", "the city's total")) >= 1
    towns = elements(driver, "#rollup-table tr[data-town]", "the towns rolled up", at_least=3)
    assert "古山镇" in [attribute(t, "data-town") for t in towns]
    rows = elements(driver, "#projects-table tr[data-project]", "the projects", at_least=8)
    states = {attribute(r, "data-state") for r in rows}
    assert {"late", "on_track", "completed"} <= states, states
    # the badge says it in Chinese
    late = [r for r in rows if attribute(r, "data-state") == "late"][0]
    assert element(late, "span.pstate", "the state badge").text == "滞后"
    element(driver, "form#supervise-form button#supervise-button", "the 滞后 check")
    element(driver, "form#import-form", "the import form")
    screenshot("projects")
    # filtering by state keeps only that state
    Select(element(driver, "select#state", "the state filter")).select_by_value("late")
    click_through(driver, element(driver, "#filters button[type=submit]", "the query button"))
    rows = elements(driver, "#projects-table tr[data-project]", "the late projects")
    assert {attribute(r, "data-state") for r in rows} == {"late"}


def test_the_map_colours_parcels_by_project_state_and_a_late_one_shows_its_project(driver, base_url, year, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_map(driver, base_url, f"year={year}&layer=project")
    assert legend_keys(driver) == ["late", "on_track", "not_started", "completed", "none"]
    assert "项目状态" in element(driver, "#legend", "the legend").text
    late = [p for p in features(driver) if p.get("proj") == "late"]
    assert late, "no parcel of a late project on the map"
    n = int(element(driver, '#legend li[data-key="late"] .legend-n', "the late count").text.replace(",", ""))
    assert n == len(late)
    click_parcel(driver, late[0]["id"])
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-card").get_attribute("data-parcel") == late[0]["id"],
        "clicking a red parcel did not open its card")
    card = element(driver, "#parcel-card", "the parcel card")
    project = element(card, '.card-projects li[data-state="late"]', "the late project on the card")
    assert elements(project, ".project-late li", "why it is late")
    link = element(project, "a.case-link", "its open 督办 case")
    assert attribute(link, "href").split("/cases/")[1].isdigit()
    element(project, "a.project-link", "the project's page")
    screenshot("map-projects")


def test_a_town_files_the_missing_report_and_its_case_is_closed(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "gushan")
    open_page(driver, base_url + "/projects")
    rows = elements(driver, "#projects-table tr[data-project]", "the town's projects")
    # a town sees only its own
    assert {r.find_elements(By.CSS_SELECTOR, "td")[4].text for r in rows} == {"古山镇"}
    late = [r for r in rows if attribute(r, "data-state") == "late"]
    assert late, "the demo town has no late project"
    click_through(driver, late[0].find_element(By.CSS_SELECTOR, "td a"))
    assert attribute(element(driver, "h1#page-title + p span.pstate", "the state"), "data-state") == "late"
    reasons = [li.text for li in elements(driver, "#late-reasons li", "why it is late")]
    assert any("进展未在" in r for r in reasons), reasons
    cases = elements(driver, "#project-cases-table tr[data-case-id]", "its 督办 cases")
    open_cases = [c for c in cases if attribute(c, "data-state") != "closed"]
    assert len(open_cases) == 1
    case_id = attribute(open_cases[0], "data-case-id")

    # the month offered first is the one whose report is missing
    month = Select(element(driver, "select#report-month", "the month")).first_selected_option.get_attribute("value")
    assert any(f"{int(month[:4])}年{int(month[5:])}月进展未在" in r for r in reasons), (month, reasons)
    element(driver, "textarea#report-text", "the report's text").send_keys("完成地块权属核查，与 3 家企业达成腾退意向。")
    element(driver, "input#report-invested", "the investment").send_keys("85")
    screenshot("project-report")
    upload(driver, "input#report-photos", "button#report-submit", png(), ".png", "a photo of the site")

    report = element(driver, f"#reports div.report[data-month='{month}']", "the filed report")
    assert "腾退意向" in report.text
    element(report, "img.photo", "the report's photo")
    assert attribute(element(driver, "h1#page-title + p span.pstate", "the state"), "data-state") != "late"
    closed = element(driver, f"#project-cases-table tr[data-case-id='{case_id}']", "the 督办 case")
    assert attribute(closed, "data-state") == "closed"
    kinds = [attribute(r, "data-kind") for r in elements(driver, "#history-table tr[data-kind]", "the history")]
    assert "report" in kinds and "cleared" in kinds
    # the case's own page shows the engine's reply and 销号
    open_page(driver, f"{base_url}/cases/{case_id}")
    assert "已销号" in driver.page_source


def test_the_war_room_ranks_the_units_against_their_targets(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/projects")
    click_through(driver, element(driver, "a#dashboard-link", "the link to the war room"))
    totals = elements(driver, "#totals div.total[data-indicator]", "the city's totals", at_least=3)
    assert {attribute(t, "data-indicator") for t in totals} >= {"remediated_mu", "freed_mu", "projects_done"}
    ranking = elements(driver, "#ranking-table tr[data-unit]", "the units ranked", at_least=3)
    rates = [float(attribute(r, "data-rate")) for r in ranking]
    assert rates == sorted(rates, reverse=True), rates
    lines = elements(driver, "#targets-table tr[data-unit][data-indicator]", "the targets", at_least=5)
    assert any(float(element(l, "td.done").text.replace(",", "")) > 0 for l in lines), "nothing achieved in the demo"
    # both charts drew (Chart.js from Debian)
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return !!(window.mujunDashboard && window.mujunDashboard.units.data.labels.length && window.mujunDashboard.trend.data.datasets[0].data.length)"),
        "the war room's charts did not draw")
    element(driver, "a#export-xlsx", "the Excel export")
    element(driver, "form#targets-form", "the targets import")
    screenshot("war-room")
    # the town sees its own line only
    as_user(driver, base_url, "gushan")
    open_page(driver, base_url + "/projects/dashboard")
    units = {attribute(r, "data-unit") for r in elements(driver, "#targets-table tr[data-unit]", "the town's targets")}
    assert units == {"古山镇"}
    assert not driver.find_elements(By.CSS_SELECTOR, "form#targets-form"), "a town must not import targets"


def test_the_weekly_agenda_becomes_a_meeting_whose_items_are_cases(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/projects")
    click_through(driver, element(driver, "a#agenda-link", "the link to the weekly agenda"))
    late = elements(driver, "#agenda-late-table tr[data-project]", "the late projects on the agenda")
    for section in ("#agenda-due", "#agenda-red", "#agenda-behind"):
        element(driver, section, f"the agenda's section {section}")
    screenshot("agenda")
    click_through(driver, element(driver, "a#agenda-meeting", "the button that records the meeting"))
    assert Select(element(driver, "select#m-kind", "the meeting kind")).first_selected_option.get_attribute("value") == "weekly"
    titles = [element(driver, f"input#item-title-{i}", f"item {i}").get_attribute("value") for i in range(len(late))]
    assert all(t.startswith("督促") for t in titles), titles
    element(driver, "input#m-chair", "the chair").send_keys("常务副市长")
    click_through(driver, element(driver, "button#meeting-submit", "the save button"))
    items = elements(driver, "#meeting-items tr[data-case-id]", "the meeting's items", at_least=len(late))
    assert len(items) == len(late)
    assert {attribute(i, "data-state") for i in items} == {"assigned"}


def test_a_candidate_becomes_a_project_with_its_parcels_filled_in(driver, base_url, year) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, f"{base_url}/clusters?year={year}")
    click_through(driver, element(driver, "#clusters-table tr[data-cluster] a.detail-link", "a candidate's page"))
    click_through(driver, element(driver, "a#new-project", "立项整治"))
    parcels = element(driver, "textarea#p-parcels", "the parcels").get_attribute("value").split()
    assert parcels, "the candidate's parcels are not filled in"
    assert float(element(driver, "input#p-target_mu", "the target area").get_attribute("value")) > 0
    assert len(elements(driver, "#plan-table input[type=date]", "the planned dates", at_least=6)) == 6
    element(driver, "input#p-lead_unit", "the lead department").send_keys("自然资源局")
    click_through(driver, element(driver, "button#project-submit", "立项"))
    assert "/projects/" in driver.current_url, driver.current_url
    listed = [a.text for a in elements(driver, "#project-parcels a", "the project's parcels")]
    assert sorted(listed) == sorted(parcels)
    assert attribute(element(driver, "h1#page-title + p span.pstate", "the state"), "data-state") == "not_started"


def test_the_headquarters_issues_a_project_bulletin(driver, base_url, screenshot) -> None:
    """/projects/bulletin: towns and departments ranked, the chart drawn; issued, it is frozen
    and reopens checked against the bytes it was issued with.

    Page contract: a#bulletin-link on /projects; canvas#chart-towns[data-drawn]; p#city-summary[data-projects];
    table#bulletin-towns-table and #bulletin-departments-table rows tr[data-unit][data-rank] td.completion;
    form#issue-form input#issue-number button#issue-submit; span#bulletin-check[data-intact];
    table#issued-table rows tr[data-bulletin]; a#export-xlsx"""
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/projects")
    element(driver, "a#bulletin-link", "the bulletin link").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "canvas#chart-towns[data-drawn]"))
    assert int(attribute(element(driver, "p#city-summary", "the city's line"), "data-projects")) >= 8
    towns = elements(driver, "#bulletin-towns-table tr[data-unit]", "the towns", at_least=3)
    assert [int(attribute(t, "data-rank")) for t in towns] == list(range(1, len(towns) + 1))
    elements(driver, "#bulletin-departments-table tr[data-unit]", "the lead departments", at_least=1)
    assert attribute(element(driver, "a#export-xlsx", "the Excel export"), "href").endswith("/projects/bulletin.xlsx")
    screenshot("project-bulletin")
    number = f"项目通报〔测试〕{int(time.time())}号"
    element(driver, "input#issue-number", "the number").send_keys(number)
    element(driver, "button#issue-submit", "the issue button").click()
    WebDriverWait(driver, 20).until(lambda d: "/projects/bulletins/" in d.current_url)
    check = element(driver, "span#bulletin-check", "the byte check")
    assert attribute(check, "data-intact") == "true", check.text
    assert number in element(driver, "h1#page-title").text
    issued = elements(driver, "#issued-table tr[data-bulletin]", "the issued bulletins")
    assert number in [element(r, "a").text for r in issued]
    assert not driver.find_elements(By.CSS_SELECTOR, "form#issue-form"), "an issued bulletin is not issued again"
