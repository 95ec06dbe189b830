"""Meetings that assign, co-unit opinions, extension requests and attachments in a real browser,
against the demo server (the demo records a 永商会客厅 evening with 14 requests).

Page contract (selectors the server's HTML must keep):
  /meetings         table#meetings-table rows tr[data-meeting-id]; a#new-<kind> per meeting kind
  /meetings/new     form#meeting-form: select#m-kind, input#m-title, #m-chair, textarea#m-attendees,
                    table#items-table rows tr.item-row with select#item-type-N, input#item-title-N,
                    #item-requester-N, select#item-lead-N, #item-co-N, #item-due-N; button#add-item,
                    button#meeting-submit
  /meetings/:id     h1#meeting-title, dd#meeting-answered, table#meeting-items rows tr[data-case-id][data-state]
  /cases/:id        form#opinion-form (#opinion-text, #opinion-attachment, #opinion-submit),
                    form#extension-request-form (#extension-due, #extension-reason, #extension-request-submit),
                    ul#notes-list li[data-kind][data-decision], a.attachment, button#approve-N,
                    ul in section#three-ones li[data-kind][data-done]
"""
from __future__ import annotations

import datetime
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import attribute, click_through, element, elements, open_page, upload
from test_cases import as_user, register, state, submit_step

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def set_value(driver, selector: str, what: str, value: str) -> None:
    """Sets an input's value (a date input takes its value the same way in every locale)."""
    driver.execute_script("arguments[0].value = arguments[1];", element(driver, selector, what), value)


def test_the_demo_meeting_lists_its_fourteen_requests(driver, base_url) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/meetings")
    rows = elements(driver, "#meetings-table tr[data-meeting-id]", "the meetings")
    demo = [r for r in rows if "永商会客厅" in r.text]
    assert demo, [r.text for r in rows]
    click_through(driver, demo[0].find_element(By.CSS_SELECTOR, "a"))
    items = elements(driver, "#meeting-items tr[data-case-id]", "the meeting's items", at_least=14)
    assert len(items) == 14
    assert "14 项交办" in element(driver, "dd#meeting-answered", "the answered count").text


def test_a_meeting_whose_items_become_cases(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/meetings")
    click_through(driver, element(driver, "a#new-yongshang", "the link to record a 永商会客厅"))
    assert Select(element(driver, "select#m-kind", "the meeting kind")).first_selected_option.get_attribute("value") == "yongshang"
    element(driver, "input#m-title", "the meeting's title").send_keys("浏览器测试：永商会客厅")
    element(driver, "input#m-chair", "the chair").send_keys("市长")
    element(driver, "textarea#m-attendees", "the attendees").send_keys("甲公司 张总\n乙公司 李总")
    before = len(elements(driver, "#items-table tr.item-row", "the item rows"))
    element(driver, "button#add-item", "the add-row button").click()
    assert len(elements(driver, "#items-table tr.item-row", "the item rows")) == before + 1
    element(driver, "input#item-title-0", "item 1's title").send_keys("浏览器测试：申请电力增容")
    element(driver, "input#item-requester-0", "item 1's requester").send_keys("甲公司 张总")
    Select(element(driver, "select#item-lead-0", "item 1's lead unit")).select_by_value("市税务局")
    element(driver, "input#item-title-1", "item 2's title").send_keys("浏览器测试：园区道路破损")
    Select(element(driver, "select#item-lead-1", "item 2's lead unit")).select_by_value("古山镇")
    # a task needs a due date: leaving it out refuses the whole meeting, naming the item
    Select(element(driver, "select#item-type-1", "item 2's type")).select_by_value("task")
    click_through(driver, element(driver, "button#meeting-submit", "the save button"))
    assert "第 2 项" in element(driver, "#form-error", "the refusal").text
    assert element(driver, "input#item-title-0", "item 1's title, kept").get_attribute("value") == "浏览器测试：申请电力增容"
    due = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    set_value(driver, "input#item-due-1", "item 2's due date", due)
    click_through(driver, element(driver, "button#meeting-submit", "the save button"))
    assert urllib.parse.urlparse(driver.current_url).path.startswith("/meetings/"), driver.current_url
    assert "浏览器测试：永商会客厅" in element(driver, "h1#meeting-title", "the meeting's title").text
    items = elements(driver, "#meeting-items tr[data-case-id]", "the meeting's items", at_least=2)
    assert len(items) == 2 and {attribute(r, "data-state") for r in items} == {"assigned"}
    assert "已答复 0 项" in element(driver, "dd#meeting-answered", "the answered count").text
    meeting_url = driver.current_url
    screenshot("meeting")
    tax_case = [r for r in items if "申请电力增容" in r.text][0].find_element(By.CSS_SELECTOR, "a").get_attribute("href")

    # the unit finds it in its inbox, accepts and replies: the meeting counts it answered
    as_user(driver, base_url, "tax")
    open_page(driver, base_url + "/inbox")
    case_id = urllib.parse.urlparse(tax_case).path.rsplit("/", 1)[1]
    elements(driver, f"#to-accept-table tr[data-case-id='{case_id}']", "the meeting's item among those to accept")
    open_page(driver, tax_case)
    submit_step(driver, "accept")
    element(driver, "form#reply-form input[name=note]", "the reply text").send_keys("已协调供电公司增容")
    submit_step(driver, "reply")
    assert state(driver) == "已答复"
    as_user(driver, base_url, "hq")
    open_page(driver, meeting_url)
    assert "已答复 1 项" in element(driver, "dd#meeting-answered", "the answered count").text


def test_a_co_unit_opinion_with_a_file_and_an_extension_requested_and_approved(driver, base_url) -> None:
    url = register(driver, base_url, "浏览器测试：协办与延期", co_units=("古山镇",))

    # the co-unit gives its opinion with a PDF
    as_user(driver, base_url, "gushan")
    open_page(driver, url)
    element(driver, "input#opinion-text", "the opinion").send_keys("建议同步考虑辖区企业诉求")
    upload(driver, "input#opinion-attachment", "button#opinion-submit", PDF, ".pdf", "the opinion's file")
    open_page(driver, url)
    opinion = element(driver, "#notes-list li[data-kind='opinion']", "the opinion in the notes")
    assert "建议同步考虑辖区企业诉求" in opinion.text and "古山镇" in opinion.text
    link = opinion.find_element(By.CSS_SELECTOR, "a.attachment")
    assert link.get_attribute("href").startswith(base_url + "/cases/")
    assert not driver.find_elements(By.CSS_SELECTOR, "form#accept-form"), "the co-unit may not accept"

    # the lead unit accepts and asks for 10 more days; HQ approves
    as_user(driver, base_url, "tax")
    open_page(driver, url)
    submit_step(driver, "accept")
    due = element(driver, "#case-reply-due", "the reply deadline").text[:10]
    asked = (datetime.date.fromisoformat(due) + datetime.timedelta(days=10)).isoformat()
    set_value(driver, "input#extension-due", "the date asked for", asked)
    element(driver, "input#extension-reason", "the reason").send_keys("需省级部门批复")
    click_through(driver, element(driver, "button#extension-request-submit", "the request button"))
    open_page(driver, url)
    request = element(driver, "#notes-list li[data-kind='extension']", "the extension request")
    assert attribute(request, "data-decision") == "pending" and "待指挥部审批" in request.text
    assert not driver.find_elements(By.CSS_SELECTOR, "form#extension-request-form"), "one pending request at a time"
    note_id = attribute(request, "data-note-id")

    as_user(driver, base_url, "hq")
    open_page(driver, url)
    click_through(driver, element(driver, f"button#approve-{note_id}", "the approve button"))
    open_page(driver, url)
    assert element(driver, "#case-reply-due", "the reply deadline").text.startswith(asked)
    assert "已延期 1 次" in element(driver, "#case-reply-due", "the reply deadline").text
    assert attribute(element(driver, "#notes-list li[data-kind='extension']", "the request"), "data-decision") == "approved"
    kinds = [attribute(r, "data-kind") for r in elements(driver, "#timeline-table tr[data-kind]", "the timeline", at_least=4)]
    assert kinds[-1] == "extend", kinds


def test_a_suggestion_records_the_three_ones(driver, base_url) -> None:
    url = register(driver, base_url, "浏览器测试：三个一")
    as_user(driver, base_url, "tax")
    open_page(driver, url)
    submit_step(driver, "accept")
    items = elements(driver, "#three-ones li[data-kind]", "the three ones", at_least=3)
    assert [attribute(i, "data-done") for i in items] == ["false", "false", "false"]
    Select(element(driver, "select#three-kind", "the kind")).select_by_value("visit")
    element(driver, "#three-ones-form input[name=text]", "what was done").send_keys("赴企业现场察看")
    element(driver, "#three-ones-form input[name=head]", "the head-took-part box").click()
    click_through(driver, element(driver, "button#three-submit", "the record button"))
    open_page(driver, url)
    visit = element(driver, "#three-ones li[data-kind='visit']", "the site visit")
    assert attribute(visit, "data-done") == "true" and "单位主要负责人参加" in visit.text
