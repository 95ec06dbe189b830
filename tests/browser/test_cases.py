"""The closed loop (闭环督办) in a real browser, against the demo server (`mujun demo` loads about
a thousand cases relative to today).

Page contract (selectors the server's HTML must keep):
  /cases/new        form#case-form: select#case-type, input#f-title, #f-requester, #f-requester_login,
                    select#f-lead_unit, input#f-due, button#register
  /cases/:id        h1#case-title, dd#case-state, #case-lead, #case-accept-due, #case-reply-due,
                    section#case-actions with form#<step>-form and button#<step>-submit per allowed step,
                    table#timeline-table rows tr[data-kind]
  /inbox            #inbox-counts with a.tile[data-group] .count, tables #to-accept-table … ,
                    rows tr[data-case-id]
  /calendar         #calendar td.day[data-date] with class holiday / makeup / weekend / workday
  /cases/bulletin   table#bulletin-table rows tr[data-unit][data-bottom], canvas#bulletin-chart[data-ready],
                    a#bulletin-xlsx
"""
from __future__ import annotations

import io
import time
import urllib.parse

import openpyxl  # scripts/install-deps.sh installs it
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import DEMO_ACCOUNTS, attribute, click_through, element, elements, http_get, http_login, login, open_page, upload


def as_user(driver, base_url: str, user: str) -> None:
    login(driver, base_url, user, DEMO_ACCOUNTS[user])


def state(driver) -> str:
    return element(driver, "dd#case-state", "the case's state").text


def submit_step(driver, step: str) -> None:
    click_through(driver, element(driver, f"button#{step}-submit", f"the {step} button"))
    open_page(driver, driver.current_url)


def register(driver, base_url: str, title: str, unit: str = "市税务局", co_units: tuple[str, ...] = ()) -> str:
    """Registers a suggestion of the demo deputy assigned to `unit` (and `co_units`) through the form; the case URL."""
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/cases/new")
    Select(element(driver, "select#case-type", "the type select")).select_by_value("suggestion")
    element(driver, "input#f-title", "the title").send_keys(title)
    element(driver, "input#f-requester", "the requester").send_keys("人大代表")
    element(driver, "input#f-requester_login", "the requester's login").send_keys("daibiao")
    Select(element(driver, "select#f-lead_unit", "the lead unit")).select_by_value(unit)
    for co in co_units:
        element(driver, f"#f-co_units input[value='{co}']", f"the co-unit box for {co}").click()
    click_through(driver, element(driver, "button#register", "the register button"))
    path = urllib.parse.urlparse(driver.current_url).path
    assert path.startswith("/cases/") and path != "/cases/new", f"the form was not accepted: {driver.current_url}"
    assert title in element(driver, "h1#case-title", "the case title").text
    return driver.current_url


def test_a_unit_accepts_and_replies(driver, base_url, screenshot) -> None:
    url = register(driver, base_url, "浏览器测试：减轻企业税费负担")
    assert state(driver) == "待签收"
    assert "交办后5个工作日" in element(driver, "#case-accept-due", "the accept deadline").text
    assert "交办后3个月，遇节假日顺延" in element(driver, "#case-reply-due", "the reply deadline").text
    # HQ may not accept: no accept form for it
    assert not driver.find_elements(By.CSS_SELECTOR, "form#accept-form")

    as_user(driver, base_url, "tax")
    open_page(driver, base_url + "/inbox")
    counts = {attribute(t, "data-group"): int(element(t, ".count", "a tile's count").text)
              for t in elements(driver, "#inbox-counts a.tile", "the inbox tiles", at_least=6)}
    case_id = urllib.parse.urlparse(url).path.rsplit("/", 1)[1]
    rows = elements(driver, f"#to-accept-table tr[data-case-id='{case_id}']", "the new case among those to accept")
    assert counts["to-accept"] >= 1 and len(rows) == 1
    screenshot("inbox")
    click_through(driver, rows[0].find_element(By.CSS_SELECTOR, "a"))
    submit_step(driver, "accept")
    assert state(driver) == "办理中"
    Select(element(driver, "select#reply-category", "the reply category")).select_by_value("B")
    element(driver, "form#reply-form input[name=note]", "the reply text").send_keys("已列入明年减负计划")
    element(driver, "form#reply-form input[name=head]", "the head-took-part box").click()
    submit_step(driver, "reply")
    assert state(driver) == "已答复"
    kinds = [attribute(r, "data-kind") for r in elements(driver, "#timeline-table tr[data-kind]", "the timeline", at_least=4)]
    assert kinds == ["register", "assign", "accept", "reply"]
    screenshot("case")


def test_the_deputy_rates_unsatisfied_then_satisfied_and_hq_closes(driver, base_url) -> None:
    url = register(driver, base_url, "浏览器测试：园区道路拓宽")
    as_user(driver, base_url, "tax")
    open_page(driver, url)
    submit_step(driver, "accept")
    element(driver, "form#reply-form input[name=note]", "the reply text").send_keys("已完成设计")
    submit_step(driver, "reply")

    as_user(driver, base_url, "daibiao")
    open_page(driver, url)
    element(driver, "form#evaluate-form input[value=unsatisfied]", "不满意").click()
    element(driver, "form#evaluate-form input[name=note]", "the deputy's opinion").send_keys("尚未开工")
    submit_step(driver, "evaluate")
    assert state(driver) == "办理中"  # back for re-handling
    assert element(driver, "#case-rehandle-due", "the re-handling deadline").text

    as_user(driver, base_url, "tax")
    open_page(driver, url)
    element(driver, "form#reply-form input[name=note]", "the second reply").send_keys("已开工建设")
    submit_step(driver, "reply")

    as_user(driver, base_url, "daibiao")
    open_page(driver, url)
    element(driver, "form#evaluate-form input[value=satisfied]", "满意").click()
    submit_step(driver, "evaluate")
    assert state(driver) == "已评价"

    as_user(driver, base_url, "hq")
    open_page(driver, url)
    submit_step(driver, "close")
    assert state(driver) == "已销号"
    assert not driver.find_elements(By.CSS_SELECTOR, "section#case-actions")
    kinds = [attribute(r, "data-kind") for r in elements(driver, "#timeline-table tr[data-kind]", "the timeline", at_least=8)]
    assert kinds == ["register", "assign", "accept", "reply", "evaluate", "reply", "evaluate", "close"]


def test_a_stale_form_is_refused_and_nothing_is_lost(driver, base_url) -> None:
    url = register(driver, base_url, "浏览器测试：并发签收")
    as_user(driver, base_url, "tax")
    open_page(driver, url)
    # another tab (the same unit) accepts first: this page's form carries the old version
    cookie = driver.get_cookie("mujun_session")["value"]
    status, _, _ = http_get(base_url, "/cases", cookie)
    assert status == 200
    driver.execute_script("window.open(arguments[0]);", url)
    first, second = driver.window_handles[0], driver.window_handles[-1]
    driver.switch_to.window(second)
    open_page(driver, url)
    submit_step(driver, "accept")
    assert state(driver) == "办理中"
    driver.close()
    driver.switch_to.window(first)
    click_through(driver, element(driver, "form#accept-form button#accept-submit", "the stale accept button"))
    assert "已被他人更新" in element(driver, "#form-error", "the refusal").text
    assert state(driver) == "办理中"
    kinds = [attribute(r, "data-kind") for r in elements(driver, "#timeline-table tr[data-kind]", "the timeline", at_least=3)]
    assert kinds.count("accept") == 1


def test_calendar_marks_holidays_and_make_up_days(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "tax")
    open_page(driver, base_url + "/calendar?year=2025")

    def kind(date: str) -> str:
        cell = element(driver, f"#calendar td.day[data-date='{date}']", f"the day {date}")
        return next(k for k in ("holiday", "makeup", "weekend", "workday") if k in attribute(cell, "class").split())

    assert kind("2025-10-01") == "holiday" and kind("2025-10-08") == "holiday"
    assert kind("2025-09-28") == "makeup" and kind("2025-10-11") == "makeup"
    assert kind("2025-10-09") == "workday" and kind("2025-10-12") == "weekend"
    assert kind("2025-01-28") == "holiday" and kind("2025-02-08") == "makeup"
    assert len(elements(driver, "#calendar td.day[data-date]", "the days of 2025", at_least=365)) == 365
    screenshot("calendar")


def test_the_admin_adds_next_years_arrangement_on_the_page(driver, base_url) -> None:
    import datetime
    nxt = datetime.date.today().year + 1
    as_user(driver, base_url, "tax")
    open_page(driver, base_url + f"/calendar?year={nxt}")
    assert not driver.find_elements(By.CSS_SELECTOR, "form#calendar-form"), "only the administrator edits the calendar"
    as_user(driver, base_url, "admin")
    open_page(driver, base_url + f"/calendar?year={nxt}")
    saturday = next(datetime.date(nxt, 2, d) for d in range(1, 8) if datetime.date(nxt, 2, d).weekday() == 5)
    holidays = element(driver, "textarea#cal-holidays", "the holidays")
    holidays.clear()
    holidays.send_keys(f"{nxt}-01-01\n{nxt}-02-15..{nxt}-02-21")
    workdays = element(driver, "textarea#cal-workdays", "the make-up days")
    workdays.clear()
    workdays.send_keys(f"{nxt}-02-03")  # a weekday: refused, naming it
    click_through(driver, element(driver, "button#calendar-save", "the save button"))
    assert f"{nxt}-02-03" in element(driver, "#form-error", "the refusal").text
    workdays = element(driver, "textarea#cal-workdays", "the make-up days")
    workdays.clear()
    workdays.send_keys(saturday.isoformat())
    click_through(driver, element(driver, "button#calendar-save", "the save button"))
    element(driver, "#notice", "the saved notice")

    def kind(date: str) -> str:
        cell = element(driver, f"#calendar td.day[data-date='{date}']", f"the day {date}")
        return next(k for k in ("holiday", "makeup", "weekend", "workday") if k in attribute(cell, "class").split())

    assert kind(f"{nxt}-02-16") == "holiday" and kind(saturday.isoformat()) == "makeup"
    assert "在本页录入" in element(driver, "#calendar-source", "who entered the year").text


def test_bulk_registration_by_upload_names_the_bad_row_then_registers(driver, base_url) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/cases")
    click_through(driver, element(driver, "a#import-cases", "the link to the upload page"))

    def upload_csv(text: str) -> None:
        upload(driver, "input#cases-upload-file", "#cases-upload button[type=submit]", text.encode("utf-8"), ".csv",
               "the file input")

    header = "类型,标题,提出人,主办单位,办理期限\n"
    upload_csv(header + "人大建议,浏览器测试：批量一,王代表,市税务局,\n人大建议,浏览器测试：批量二,李代表,不存在的局,\n")
    rows = elements(driver, "#import-errors-table tr[data-row]", "the refused rows")
    assert [attribute(r, "data-row") for r in rows] == ["3"], [r.text for r in rows]
    assert "不存在的局" in rows[0].text
    open_page(driver, base_url + "/cases?q=" + urllib.parse.quote("浏览器测试：批量"))
    assert "0 件" in element(driver, "#case-count", "the count").text, "nothing was written"
    open_page(driver, base_url + "/cases/import")
    upload_csv(header + "人大建议,浏览器测试：批量一,王代表,市税务局,\n人大建议,浏览器测试：批量二,李代表,古山镇,\n")
    result = element(driver, "#import-result", "the import result")
    assert attribute(result, "data-cases") == "2", result.text
    open_page(driver, base_url + "/cases?q=" + urllib.parse.quote("浏览器测试：批量"))
    assert "2 件" in element(driver, "#case-count", "the count").text


def test_bulletin_page_chart_and_export(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/cases/bulletin")
    rows = elements(driver, "#bulletin-table tbody tr[data-unit]", "the units of the bulletin", at_least=5)
    ranks = [r.find_elements(By.CSS_SELECTOR, "td")[15].text for r in rows]
    ranked = [int(x) for x in ranks if x != "不排名"]
    assert ranked and ranked == sorted(ranked) and ranked[0] == 1
    assert any(attribute(r, "data-bottom") == "1" for r in rows), "no unit marked 末位"
    canvas = element(driver, "canvas#bulletin-chart", "the chart")
    for _ in range(50):
        if canvas.get_attribute("data-ready") == "1":
            break
        time.sleep(0.1)
    assert canvas.get_attribute("data-ready") == "1", "the chart was not drawn"
    screenshot("bulletin")
    href = attribute(element(driver, "a#bulletin-xlsx", "the export link"), "href")
    cookie = driver.get_cookie("mujun_session")["value"]
    status, headers, body = http_get(base_url, urllib.parse.urlparse(href).path + "?" + urllib.parse.urlparse(href).query, cookie)
    assert status == 200 and body[:2] == b"PK", (status, headers)
    wb = openpyxl.load_workbook(io.BytesIO(body))
    ws = wb.worksheets[0]
    assert ws.cell(1, 1).value == "单位" and ws.max_row == len(rows) + 1
    assert ws.page_setup.paperSize in (9, "9")  # A4


def test_an_issued_bulletin_is_frozen_and_downloads_the_same_bytes(driver, base_url) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/cases/bulletin?type=suggestion")
    number = f"督办通报〔浏览器测试〕{int(time.time() * 1000)}号"
    element(driver, "input#issue-number", "the number field").send_keys(number)
    click_through(driver, element(driver, "button#issue-submit", "the issue button"))
    assert urllib.parse.urlparse(driver.current_url).path.startswith("/cases/bulletins/"), driver.current_url
    assert number in element(driver, "h1#bulletin-title", "the issued bulletin's title").text
    units = [attribute(r, "data-unit") for r in elements(driver, "#bulletin-table tbody tr[data-unit]", "its units")]
    cookie = driver.get_cookie("mujun_session")["value"]
    path = urllib.parse.urlparse(attribute(element(driver, "a#bulletin-xlsx", "the export link"), "href")).path
    first = http_get(base_url, path, cookie)
    time.sleep(1.1)  # a workbook stamped with "now" would differ after a second
    second = http_get(base_url, path, cookie)
    assert first[0] == 200 and first[2][:2] == b"PK"
    assert first[2] == second[2], "an issued bulletin's workbook changed"
    # it is listed on the bulletin page
    open_page(driver, base_url + "/cases/bulletin")
    listed = [e.text for e in elements(driver, "#issued-table td a", "the issued bulletins")]
    assert number in listed
    assert units


def test_a_petitioner_follows_a_petition_with_its_query_code(driver, base_url) -> None:
    import re
    from conftest import logout
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/cases/new")
    Select(element(driver, "select#case-type", "the type select")).select_by_value("petition")
    element(driver, "input#f-title", "the title").send_keys("浏览器测试：反映拖欠工资")
    element(driver, "input#f-requester", "the requester").send_keys("来访群众")
    Select(element(driver, "select#f-lead_unit", "the lead unit")).select_by_value("市税务局")
    click_through(driver, element(driver, "button#register", "the register button"))
    notice = element(driver, "#notice", "the notice with the query code").text
    m = re.search(r"已登记 (\S+)。信访人查询码：(\d{8})", notice)
    assert m, notice
    ref, code = m.group(1), m.group(2)
    logout(driver, base_url)
    open_page(driver, base_url + "/petition")
    element(driver, "input#petition-ref", "the number").send_keys(ref)
    element(driver, "input#petition-code", "the query code").send_keys("0" * 8 if code != "0" * 8 else "1" * 8)
    click_through(driver, element(driver, "button#petition-submit", "the look-up button"))
    assert "不正确" in element(driver, "#form-error", "the refusal").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#petition-result")
    element(driver, "input#petition-ref", "the number").clear()
    element(driver, "input#petition-ref", "the number").send_keys(ref)
    element(driver, "input#petition-code", "the query code").send_keys(code)
    click_through(driver, element(driver, "button#petition-submit", "the look-up button"))
    assert element(driver, "#petition-state", "the petition's state").text == "待签收"
    assert "反映拖欠工资" in element(driver, "#petition-result h2", "the petition's title").text


def test_a_deputy_sets_where_she_is_told_and_a_unit_member_may_follow_the_unit(driver, base_url, screenshot) -> None:
    """/account: form#notify-form with input#notify-email, #notify-webhook, #notify-secret, button#notify-save;
    input#notify-follow for a unit's staff only; p#notify-saved after saving, p#notify-error for a bad address."""
    as_user(driver, base_url, "daibiao")
    open_page(driver, base_url + "/account")
    assert not driver.find_elements(By.CSS_SELECTOR, "input#notify-follow"), "a deputy has no unit to follow"
    email = element(driver, "form#notify-form input#notify-email", "the e-mail field")
    # the browser's own check would stop a bad address before the server sees it: as from a script
    driver.execute_script("document.getElementById('notify-email').type = 'text'")
    email.clear()
    email.send_keys("not an address")
    click_through(driver, element(driver, "button#notify-save", "the save button"))
    assert "邮箱地址无效" in element(driver, "#notify-error", "the refusal").text
    email = element(driver, "input#notify-email", "the e-mail field")
    email.clear()
    email.send_keys("daibiao@rd.yk.test")
    click_through(driver, element(driver, "button#notify-save", "the save button"))
    assert "已保存" in element(driver, "p#notify-saved", "the saved notice").text
    assert attribute(element(driver, "input#notify-email", "the e-mail field"), "value") == "daibiao@rd.yk.test"
    screenshot("account-notify")
    # off again (the shared demo server has no mail server)
    email = element(driver, "input#notify-email", "the e-mail field")
    email.clear()
    click_through(driver, element(driver, "button#notify-save", "the save button"))
    assert attribute(element(driver, "input#notify-email", "the e-mail field"), "value") == ""

    as_user(driver, base_url, "tax")
    open_page(driver, base_url + "/account")
    follow = element(driver, "form#notify-form input#notify-follow[type=checkbox]", "the follow-my-unit box")
    assert "市税务局" in follow.find_element(By.XPATH, "..").text
