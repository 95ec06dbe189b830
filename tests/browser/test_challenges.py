"""Challenges (揭榜挂帅, issue 10) in a real browser, against the demo server: an enterprise
applies to the open challenge from its own portal; HQ assigns an expert; the expert — who sees
only what it is assigned — scores it on the score sheet; HQ sees the score. Then the challenge
under review is awarded once its last sheet is in, and the winner's project starts.

Page contract (selectors the server's HTML must keep):
  /challenges      table#challenges-table rows tr[data-ref][data-stage] with a link and td.own (enterprise); a#new-challenge (HQ)
  /challenges/new  form#challenge-form: input#c-title, textarea#c-problem, input#c-reward, input#c-deadline, button#challenge-submit
  /challenges/:id  section#facts; form#apply-form (textarea#apply-plan, textarea#apply-partners,
                   input#apply-contact, button#apply-submit); section#own dd#own-state;
                   table#applications-table rows tr[data-application][data-code] td.reviews td.mean;
                   form#assign-form input[name='experts[]'] (label text names the expert), button#assign-submit;
                   form#award-form select#award-application textarea#award-pledge button#award-submit;
                   table#tranches-table rows tr[data-seq][data-paid]; p#form-error
  /reviews         table#reviews-table rows tr[data-application] td.total
  /reviews/:id     table#score-sheet rows tr[data-criterion] input#score-<key>, textarea#score-comment, button#score-submit
"""
from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import attribute, element, elements, open_page, wait_for
from test_cases import as_user

SHEET = {"tech": 26, "team": 16, "plan": 17.5, "funds": 12, "impact": 11}


def challenge_url(driver, base_url: str, stage: str) -> str:
    open_page(driver, base_url + "/challenges")
    rows = elements(driver, "#challenges-table tr[data-stage]", "the challenges", at_least=3)
    row = [r for r in rows if attribute(r, "data-stage") == stage]
    assert row, f"no challenge is {stage}: {[attribute(r, 'data-stage') for r in rows]}"
    return element(row[0], "a", "the challenge's link").get_attribute("href")


def tick_expert(driver, name: str) -> None:
    boxes = elements(driver, "form#assign-form input[name='experts[]']", "the experts to assign", at_least=2)
    mine = [b for b in boxes if name in b.find_element(By.XPATH, "..").text]
    assert mine, f"no expert box names {name}"
    mine[0].click()


def application_row(driver, code: str):
    rows = elements(driver, "#applications-table tr[data-application]", "the applications")
    row = [r for r in rows if attribute(r, "data-code") == code]
    assert row, f"no application of {code}"
    return row[0]


def test_an_enterprise_applies_and_an_expert_scores_it(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "qiye")
    url = challenge_url(driver, base_url, "open")
    # the enterprise's list says it may apply
    open_page(driver, base_url + "/challenges")
    open_row = [r for r in elements(driver, "#challenges-table tr[data-stage]") if attribute(r, "data-stage") == "open"][0]
    assert element(open_row, "td.own", "the enterprise's column").text == "可揭榜"
    open_page(driver, url)
    # a bad partner code: refused, named, nothing written
    element(driver, "textarea#apply-plan", "the plan").send_keys("自研多工位温锻成形线，18 个月量产。")
    element(driver, "textarea#apply-partners", "the consortium's partners").send_keys("12345")
    element(driver, "input#apply-contact", "the contact").send_keys("王工 13800000000")
    element(driver, "button#apply-submit", "the apply button").click()
    assert "12345" in wait_for(driver, "p#form-error", "the refusal").text
    open_page(driver, url)
    element(driver, "form#apply-form", "the apply form: nothing was written")
    element(driver, "textarea#apply-plan").send_keys("自研多工位温锻成形线，18 个月量产。")
    element(driver, "input#apply-contact").send_keys("王工 13800000000")
    element(driver, "button#apply-submit").click()
    open_page(driver, url)
    assert element(driver, "dd#own-state", "the enterprise's application").text == "已提交"
    assert not driver.find_elements(By.CSS_SELECTOR, "form#apply-form"), "it cannot apply twice"
    screenshot("challenge-applied")

    # not assigned yet: the expert neither lists nor opens it
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    # the newest application (the enterprise's) has no expert yet
    new = max(elements(driver, "#applications-table tr[data-application]", "the applications", at_least=2),
              key=lambda r: int(attribute(r, "data-application")))
    assert "未分配" in element(new, "td.reviews").text
    code = [attribute(new, "data-code")]
    app_id = attribute(new, "data-application")
    as_user(driver, base_url, "zhuanjia")
    open_page(driver, base_url + "/reviews")
    assert not driver.find_elements(By.CSS_SELECTOR, f"#reviews-table tr[data-application='{app_id}']")
    open_page(driver, base_url + f"/reviews/{app_id}")
    assert not driver.find_elements(By.CSS_SELECTOR, "form#score-form"), "an unassigned application is not shown"

    # HQ assigns 王立新 to it
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    tick_expert(driver, "王立新")
    element(driver, f"form#assign-form input[name='applications[]'][value='{app_id}']", "the application's box").click()
    element(driver, "button#assign-submit", "the assign button").click()
    open_page(driver, url)
    assert "王立新 待评" in element(application_row(driver, code[0]), "td.reviews").text

    # the expert scores it on the sheet
    as_user(driver, base_url, "zhuanjia")
    open_page(driver, base_url + "/reviews")
    row = element(driver, f"#reviews-table tr[data-application='{app_id}']", "the assigned application")
    assert element(row, "td.total").text == "待评"
    open_page(driver, base_url + f"/reviews/{app_id}")
    keys = [attribute(r, "data-criterion") for r in elements(driver, "#score-sheet tr[data-criterion]", "the sheet", at_least=5)]
    assert set(keys) == set(SHEET), keys
    for k, v in SHEET.items():
        box = element(driver, f"input#score-{k}", f"the score of {k}")
        box.clear()
        box.send_keys(str(v))
    element(driver, "textarea#score-comment", "the comment").send_keys("路线清晰，指标可考核。")
    screenshot("challenge-score-sheet")
    element(driver, "button#score-submit", "the submit button").click()
    open_page(driver, base_url + "/reviews")
    total = sum(SHEET.values())
    assert element(driver, f"#reviews-table tr[data-application='{app_id}'] td.total").text == f"{total:.1f}"
    # another expert still cannot open it
    as_user(driver, base_url, "zhuanjia2")
    open_page(driver, base_url + f"/reviews/{app_id}")
    assert not driver.find_elements(By.CSS_SELECTOR, "form#score-form")

    # HQ sees the mean
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    assert element(application_row(driver, code[0]), "td.mean").text == f"{total:.1f}"
    screenshot("challenge-applications")


def test_an_expert_sees_only_its_reviews(driver, base_url) -> None:
    as_user(driver, base_url, "zhuanjia2")
    nav = {attribute(a, "href").split("/", 3)[-1] for a in elements(driver, "nav a[href]", "the menu")}
    assert "reviews" in nav and "challenges" not in nav and "cases" not in nav and "projects" not in nav, nav
    open_page(driver, base_url + "/challenges")
    assert not driver.find_elements(By.CSS_SELECTOR, "#challenges-table"), "an expert does not read the challenges"


def test_the_challenge_under_review_is_awarded_once_every_sheet_is_in(driver, base_url, screenshot) -> None:
    as_user(driver, base_url, "hq")
    url = challenge_url(driver, base_url, "reviewing")
    open_page(driver, url)
    rows = elements(driver, "#applications-table tr[data-application]", "the applications", at_least=3)
    best = attribute(rows[0], "data-application")
    pending = [attribute(r, "data-application") for r in rows if "待评" in element(r, "td.reviews").text]
    assert pending, "the demo leaves one sheet to fill"
    app_id = pending[0]
    Select(element(driver, "select#award-application", "the winner")).select_by_value(app_id)
    element(driver, "textarea#award-pledge", "the pledge").send_keys("12 个月内电机效率 90% 以上。")
    element(driver, "button#award-submit", "the award button").click()
    assert "尚未" in wait_for(driver, "p#form-error", "the refusal").text
    # the last expert scores, then the award goes through and the project starts
    as_user(driver, base_url, "zhuanjia2")
    open_page(driver, base_url + f"/reviews/{app_id}")
    for k, v in SHEET.items():
        element(driver, f"input#score-{k}").clear()
        element(driver, f"input#score-{k}").send_keys(str(v))
    element(driver, "button#score-submit").click()
    as_user(driver, base_url, "hq")
    open_page(driver, url)
    Select(element(driver, "select#award-application")).select_by_value(best)
    element(driver, "textarea#award-pledge").send_keys("12 个月内电机效率 90% 以上。")
    element(driver, "button#award-submit").click()
    open_page(driver, driver.current_url)
    assert "/projects/" in driver.current_url, driver.current_url
    stones = elements(driver, "#milestones-table tr[data-seq]", "the project's milestones", at_least=7)
    assert all(attribute(s, "data-done") for s in stones[:4]), "发榜 … 立项 are done"
    assert not any(attribute(s, "data-done") for s in stones[4:]), "the rest are planned"
    open_page(driver, url)
    tranches = elements(driver, "#tranches-table tr[data-seq]", "the reward's tranches", at_least=3)
    assert element(tranches[0], "button", "the first tranche's pay button")
    # the awarded demo challenge: its first tranche is paid, the winner enterprise sees its project
    as_user(driver, base_url, "qiye")
    url = challenge_url(driver, base_url, "awarded")
    open_page(driver, url)
    assert element(driver, "dd#own-state").text == "中榜"
    paid = [attribute(t, "data-paid") for t in elements(driver, "#tranches-table tr[data-seq]", at_least=3)]
    assert paid == ["true", "false", "false"], paid
    element(driver, "a#challenge-project", "the project's link").click()
    open_page(driver, driver.current_url)
    assert "揭榜挂帅" in element(driver, "#facts", "the project's facts").text
    assert "/challenges/" in attribute(element(driver, "dd#project-challenge a", "the link back to the challenge"), "href")
    screenshot("challenge-project")


# (last in this file: it adds an open challenge, which the tests above would otherwise pick)
def test_the_headquarters_publishes_a_challenge(driver, base_url) -> None:
    as_user(driver, base_url, "hq")
    open_page(driver, base_url + "/challenges")
    before = len(elements(driver, "#challenges-table tr[data-ref]", "the challenges", at_least=3))
    element(driver, "a#new-challenge", "the 发榜 button").click()
    open_page(driver, driver.current_url)
    title = f"测试榜单{int(time.time())}"

    def fill(deadline: str | None) -> None:
        element(driver, "input#c-title", "the title").send_keys(title)
        element(driver, "textarea#c-problem", "the problem").send_keys("模具寿命提升到 10 万次")
        element(driver, "input#c-reward", "the reward").send_keys("50")
        if deadline:
            driver.execute_script("arguments[0].value = arguments[1]", element(driver, "input#c-deadline", "the deadline"), deadline)
        element(driver, "button#challenge-submit", "the publish button").click()

    # a deadline in the past: refused, named, nothing written
    fill("2020-01-01")
    assert "早于今天" in wait_for(driver, "p#form-error", "the refusal").text
    open_page(driver, base_url + "/challenges")
    assert len(elements(driver, "#challenges-table tr[data-ref]")) == before
    open_page(driver, base_url + "/challenges/new")
    fill(None)
    open_page(driver, driver.current_url)
    assert "/challenges/" in driver.current_url and title in element(driver, "h1#page-title", "the challenge's title").text
    assert attribute(element(driver, "span.cstage", "the stage"), "data-stage") == "open"
    open_page(driver, base_url + "/challenges")
    assert len(elements(driver, "#challenges-table tr[data-ref]")) == before + 1
