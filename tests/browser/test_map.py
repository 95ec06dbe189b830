"""The battle map (挂图作战) in a real browser: the parcels are drawn (as many as the API
returns), the legend shows the classes, a click on a parcel opens its card with a link to
the enterprise, the layers and the search work, and the town user `gushan` sees only
古山镇. Screenshot docs/screenshots/map.png when MUJUN_SCREENSHOTS=1.

Page contract (Public/map.js):
  window.mujunMap = { loaded, featureCount, numberMatched, loadMillis, features(),
                      openCard(id), setLayer(name), pixelOf(id), map (Leaflet), card }
  #legend li[data-key]   one per category of the chosen layer (A/B/C/D/none for 评价分类)
  #parcel-card[data-parcel="…"] with a.occupant-link (/enterprises/{code}?year=…)
  #layer-select input[name=layer][value=cls|low|cluster|survey], #map-q + #map-search-go,
  #cluster-outlines, #sum-parcels, #sum-low, #map-town (fixed for a town user)

The demo city of the browser leg (`mujun demo --enterprises 600 --seed 7`) has D-class
low-efficiency parcels in 古山镇 and candidate clusters; the tests require them (a test that
would have nothing to click fails saying so) instead of checking only when they happen to exist.
"""
from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import DEMO_ACCOUNTS, HOME_TOWN, attribute, element, elements, http_get, http_login


def open_map(driver, base_url: str, query: str = "") -> float:
    """Opens /map and waits until map.js has drawn the parcels; returns the seconds taken."""
    started = time.monotonic()
    driver.get(base_url + "/map" + (("?" + query) if query else ""))
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!(window.mujunMap && window.mujunMap.loaded)"),
                                    f"map.js did not finish loading {driver.current_url} (window.mujunMap.loaded)")
    elapsed = time.monotonic() - started
    error = driver.execute_script("return window.mujunMap.error")
    assert not error, f"the map reported an error: {error}"
    wait_until_settled(driver)
    return elapsed


def wait_until_settled(driver, timeout: float = 15) -> None:
    """Waits until the map's view stops moving: map.js zooms to the parcels with an animated
    fitBounds after it reports loaded, and a view set or a click made during that animation
    lands somewhere else."""
    view = "var m = window.mujunMap.map, c = m.getCenter(); return [m.getZoom(), c.lat, c.lng];"
    last = driver.execute_script(view)
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(0.3)
        now = driver.execute_script(view)
        if now == last:
            return
        assert time.monotonic() < deadline, f"the map kept moving for {timeout} s ({last} -> {now})"
        last = now


def features(driver) -> list[dict]:
    return driver.execute_script("return window.mujunMap.features()")


def api_as(base_url: str, cookie: str, path: str) -> dict:
    status, _, body = http_get(base_url, path, cookie)
    assert status == 200, f"GET {path} -> {status}: {body[:200]!r}"
    return json.loads(body)


def legend_keys(driver) -> list[str]:
    return [attribute(li, "data-key") for li in elements(driver, "#legend li[data-key]", "the legend entries")]


def click_parcel(driver, parcel_id: str) -> None:
    """Zooms to a parcel and clicks the map canvas at its centre, as a person would."""
    # zoom so the parcel is large, away from the card's corner
    found = driver.execute_script("""
        var m = window.mujunMap, id = arguments[0], target = null;
        m.map.eachLayer(function (l) { if (l.feature && l.feature.properties && l.feature.properties.id === id && l.getBounds) target = l; });
        if (!target) return false;
        m.map.setView(target.getCenter(), 18, { animate: false });
        return true;
    """, parcel_id)
    assert found, f"parcel {parcel_id} is not among the map's layers"
    wait_until_settled(driver)
    time.sleep(0.3)  # the canvas redraws on moveend
    pt = driver.execute_script("return window.mujunMap.pixelOf(arguments[0])", parcel_id)
    assert pt, f"parcel {parcel_id} is not drawn"
    el = element(driver, "#map", "the map")
    size = el.size
    ActionChains(driver).move_to_element_with_offset(el, pt["x"] - size["width"] // 2, pt["y"] - size["height"] // 2).click().perform()


# ------------------------------------------------------------------ the headquarters
@pytest.fixture(scope="module")
def parcels(api, year) -> dict:
    data = api("/api/v1/map/parcels", year=year)
    assert data["numberMatched"] > 0, "the demo database has no parcels"
    assert not data["bbox_required"]
    return data


@pytest.fixture()
def hq_map(signed_in_hq, base_url, year):
    open_map(signed_in_hq, base_url, f"year={year}")
    return signed_in_hq


def test_map_draws_every_parcel_the_api_returns(signed_in_hq, base_url, year, parcels):
    driver = signed_in_hq
    seconds = open_map(driver, base_url, f"year={year}")
    drawn = driver.execute_script("return window.mujunMap.featureCount")
    assert drawn == parcels["numberMatched"] == len(parcels["features"])
    assert {p["id"] for p in features(driver)} == {f["properties"]["id"] for f in parcels["features"]}
    print(f"\nmap: {drawn} parcels drawn {seconds:.2f} s after navigation "
          f"(fetch+draw {driver.execute_script('return window.mujunMap.loadMillis')} ms)")
    assert seconds < 15


def test_map_uses_the_leaflet_canvas_and_no_inline_script(hq_map):
    element(hq_map, "#map canvas.leaflet-zoom-animated, #map .leaflet-pane canvas", "Leaflet's canvas renderer")
    scripts = elements(hq_map, "script", "the page's scripts")
    assert any((s.get_attribute("src") or "").endswith("/static/map.js") for s in scripts), "map.js is not loaded"
    inline = [s.get_attribute("outerHTML")[:120] for s in scripts
              if not s.get_attribute("src") and s.get_attribute("type") != "application/json"]
    assert not inline, f"inline scripts: {inline}"


def test_class_legend_lists_the_classes_with_counts_that_add_up(hq_map, parcels):
    assert legend_keys(hq_map) == ["A", "B", "C", "D", "none"]
    legend = element(hq_map, "#legend", "the legend").text
    missing = [label for label in ("A 类", "B 类", "C 类", "D 类") if label not in legend]
    assert not missing, f"{missing} not in the legend: {legend!r}"
    counts = [int(e.text.replace(",", "")) for e in elements(hq_map, "#legend .legend-n", "the legend's counts", 5)]
    assert sum(counts) == parcels["numberMatched"]


def test_summary_panel_counts_the_parcels_and_the_low_efficiency_ones(hq_map, parcels):
    assert element(hq_map, "#sum-parcels", "the parcel count").text.replace(",", "") == str(parcels["numberMatched"])
    assert int(element(hq_map, "#sum-low", "the low-efficiency count").text.replace(",", "")) == \
        parcels["summary"]["low_count"]


def test_low_efficiency_layer_changes_the_legend(hq_map):
    element(hq_map, '#layer-select input[value="low"]', "the 低效用地 layer choice").click()
    WebDriverWait(hq_map, 10).until(lambda d: [li.get_attribute("data-key") for li in d.find_elements(
        By.CSS_SELECTOR, "#legend li[data-key]")] == ["low", "ok", "none"], "the legend did not switch to low/ok/none")
    assert "低效用地" in element(hq_map, "#legend", "the legend").text


@pytest.fixture(scope="module")
def red_parcel(parcels) -> dict:
    """A red (D-class) low-efficiency parcel of 古山镇, as in "clicks a red block" (the demo
    city of seed 7 has two)."""
    pick = next((f["properties"] for f in parcels["features"]
                 if f["properties"]["town"] == HOME_TOWN and f["properties"]["cls"] == "D" and f["properties"]["low"]),
                None)
    assert pick is not None, f"the demo city has no D-class low-efficiency parcel in {HOME_TOWN}"
    return pick


@pytest.fixture()
def parcel_card(hq_map, red_parcel):
    """The map with the red parcel clicked: its card open."""
    click_parcel(hq_map, red_parcel["id"])
    WebDriverWait(hq_map, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-card").get_attribute("data-parcel") == red_parcel["id"],
        f"clicking parcel {red_parcel['id']} did not open its card (#parcel-card[data-parcel])")
    card = element(hq_map, "#parcel-card", "the parcel card")
    assert card.is_displayed()
    return card


def test_click_on_a_parcel_opens_its_card(parcel_card, red_parcel):
    text = parcel_card.text
    missing = [s for s in (red_parcel["id"], "计算面积", "用地企业") if s not in text]
    assert not missing, f"{missing} not on the card: {text!r}"
    elements(parcel_card, ".card-occupants .badge", "the occupants' class badges")


def test_the_card_links_the_occupants_to_their_enterprise_pages(parcel_card, year):
    link = element(parcel_card, "a.occupant-link", "the link to an occupant's enterprise page")
    href = urllib.parse.urlparse(attribute(link, "href"))
    assert href.path.startswith("/enterprises/") and urllib.parse.parse_qs(href.query).get("year") == [str(year)], href


def test_the_card_of_a_low_efficiency_parcel_gives_its_reasons(parcel_card):
    elements(parcel_card, ".card-reasons li", "the low-efficiency reasons")


def test_the_card_links_the_parcel_page(parcel_card, red_parcel):
    detail = attribute(element(parcel_card, "#card-page-link", "the link to the parcel page"), "href")
    assert urllib.parse.urlparse(detail).path == "/parcels/" + red_parcel["id"]


def test_the_card_link_opens_the_enterprise_page(hq_map, parcel_card, red_parcel, screenshot):
    # the screenshot: the parcel's town in view, the card open
    hq_map.execute_script("""
        var m = window.mujunMap, town = arguments[0], b = null;
        m.map.eachLayer(function (l) {
          if (l.feature && l.feature.properties && l.feature.properties.town === town && l.getBounds)
            b = b ? b.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
        });
        m.map.fitBounds(b, { animate: false, paddingTopLeft: [20, 20], paddingBottomRight: [380, 20] });
    """, red_parcel["town"])
    # the pointer away from the map, so no tooltip hides the selected parcel
    ActionChains(hq_map).move_to_element(element(hq_map, "#page-title", "the page title")).perform()
    time.sleep(1.0)
    screenshot("map")
    target = attribute(element(parcel_card, "a.occupant-link", "the link to an occupant's enterprise page"), "href")
    hq_map.get(target)
    WebDriverWait(hq_map, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#enterprise-name"),
                                    f"{target} shows no #enterprise-name")


def test_search_finds_a_parcel_and_opens_its_card(hq_map, parcels):
    target = parcels["features"][len(parcels["features"]) // 2]["properties"]["id"]
    box = element(hq_map, "#map-q", "the search box")
    box.clear()
    box.send_keys(target)
    element(hq_map, "#map-search-go", "the search button").click()
    WebDriverWait(hq_map, 20).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-card").get_attribute("data-parcel") == target,
        f"searching {target} did not open its card")
    elements(hq_map, "#search-results .search-hit", "the search hits")


@pytest.fixture(scope="module")
def candidates(api, year) -> list[dict]:
    found = api("/api/v1/map/clusters", year=year, candidates=1)["features"]
    assert found, "the demo city has no candidate cluster"
    return found


def test_cluster_outlines_draw_every_candidate(hq_map, candidates):
    element(hq_map, "#cluster-outlines", "the cluster outlines switch").click()
    WebDriverWait(hq_map, 20).until(lambda d: d.execute_script("return window.mujunMap.outlineCount") == len(candidates),
                                    f"the map does not outline the {len(candidates)} candidate clusters")


def test_cluster_layer_colours_the_candidates(hq_map):
    hq_map.execute_script("window.mujunMap.setLayer('cluster')")
    assert "整治候选片区" in element(hq_map, "#legend", "the legend").text


def test_a_cluster_link_opens_the_map_on_it(signed_in_hq, base_url, year, candidates):
    n = candidates[0]["properties"]["number"]
    open_map(signed_in_hq, base_url, f"year={year}&cluster={n}")
    card = element(signed_in_hq, "#parcel-card", "the card")
    WebDriverWait(signed_in_hq, 10).until(lambda d: card.is_displayed() and f"第 {n} 片" in card.text,
                                          f"the card does not show cluster {n} (第 {n} 片)")


def test_the_candidates_list_opens_a_clusters_parcels_and_their_kinds(signed_in_hq, base_url, year, candidates):
    """/clusters lists every renewal candidate (clusters of low-efficiency parcels); a row opens
    /clusters/N with the block's share, its parcels by kind and each parcel, whose page names
    its kind."""
    driver = signed_in_hq
    driver.get(f"{base_url}/clusters?year={year}")
    rows = elements(driver, "#clusters-table tbody tr[data-cluster]", "the candidate rows")
    assert len(rows) == len(candidates), f"{len(rows)} rows for {len(candidates)} candidates"
    n = attribute(rows[0], "data-cluster", "the first row")
    feature = next(f for f in candidates if str(f["properties"]["number"]) == n)
    element(rows[0], "td.kinds", "the row's kinds of low-efficiency land")
    element(rows[0], "a.detail-link", "the row's link to the cluster's parcels").click()
    WebDriverWait(driver, 10).until(lambda d: f"/clusters/{n}?" in d.current_url, f"the link did not open /clusters/{n}")
    parcels = elements(driver, "#cluster-parcels-table tbody tr[data-parcel]", "the cluster's parcels")
    assert len(parcels) == feature["properties"]["count"], \
        f"/clusters/{n} lists {len(parcels)} parcels, the map API says {feature['properties']['count']}"
    assert "%" in element(driver, "#block-share", "the share of the block around it").text
    kinds = elements(driver, "#categories-table tbody tr[data-category]", "the kinds of its parcels")
    counted = sum(int(r.find_elements(By.CSS_SELECTOR, "td")[1].text) for r in kinds)
    assert counted == len(parcels), f"the kinds count {counted} parcels of {len(parcels)}"
    reasons = [element(p, "td.reasons", "a parcel's reasons").text for p in parcels]
    assert all(reasons), "a parcel of the cluster shows no reason for being low-efficiency"
    pid = attribute(parcels[0], "data-parcel", "the first parcel")
    element(parcels[0], "a", "the parcel's link").click()
    WebDriverWait(driver, 10).until(lambda d: "/parcels/" in d.current_url, "the parcel link did not open its page")
    assert pid in driver.title or pid in element(driver, "h1", "the parcel page's title").text
    element(driver, "#parcel-category", "the parcel's kind of low-efficiency land")
    assert f"第 {n} 片" in element(driver, "#parcel-cluster", "the parcel's cluster").text


def test_large_sets_load_by_bounding_box(signed_in_hq, base_url, year):
    """Above the limit (20,000 parcels; lowered here with ?limit=) the map loads what the
    view shows, and again when it moves."""
    driver = signed_in_hq
    open_map(driver, base_url, f"year={year}&limit=40")
    assert driver.execute_script("return window.mujunMap.mode") == "bbox"
    assert driver.execute_script("return window.mujunMap.numberMatched") > 0

    def drawn_in_view() -> bool:
        return driver.execute_script("""
            var m = window.mujunMap, b = m.map.getBounds(), ok = true;
            m.map.eachLayer(function (l) { if (l.feature && l.feature.properties && l.getBounds && !b.intersects(l.getBounds())) ok = false; });
            return ok;""")

    assert 0 < driver.execute_script("return window.mujunMap.featureCount") <= 40
    assert drawn_in_view()
    loads = driver.execute_script("return window.mujunMap.loads")
    driver.execute_script("window.mujunMap.map.panBy([500, 300], { animate: false })")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return window.mujunMap.loads") > loads)
    assert 0 < driver.execute_script("return window.mujunMap.featureCount") <= 40
    assert drawn_in_view()


def test_parcel_page_has_a_small_map(signed_in_hq, base_url, year, parcels):
    driver = signed_in_hq
    pid = parcels["features"][0]["properties"]["id"]
    driver.get(f"{base_url}/parcels/{urllib.parse.quote(pid)}?year={year}")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#parcel-map").get_attribute("data-features"),
                                    "#parcel-map never got data-features")
    assert int(attribute(element(driver, "#parcel-map", "the small map"), "data-features")) >= 1
    assert element(driver, "#parcel-title", "the parcel title").text.endswith(pid)
    element(driver, "#surveys", "the surveys section")


# ------------------------------------------------------------------ the town user
@pytest.fixture(scope="module")
def town_cookie(base_url) -> str:
    return http_login(base_url, "gushan", DEMO_ACCOUNTS["gushan"])


def test_town_user_sees_only_its_own_parcels(signed_in_town, base_url, year, town_cookie):
    driver = signed_in_town
    open_map(driver, base_url, f"year={year}")
    data = api_as(base_url, town_cookie, f"/api/v1/map/parcels?year={year}")
    drawn = features(driver)
    assert drawn, "the town user sees its parcels"
    assert {p["town"] for p in drawn} == {HOME_TOWN}
    assert len(drawn) == driver.execute_script("return window.mujunMap.featureCount") == data["numberMatched"]


def test_town_user_town_filter_is_fixed_to_its_town(signed_in_town, base_url, year):
    open_map(signed_in_town, base_url, f"year={year}")
    town = element(signed_in_town, "#map-town", "the town filter")
    assert town.get_attribute("disabled") is not None and town.get_attribute("value") == HOME_TOWN


def test_town_user_gets_nothing_for_another_town(base_url, year, town_cookie):
    other = api_as(base_url, town_cookie, f"/api/v1/map/parcels?year={year}&town={urllib.parse.quote('西城街道')}")
    assert other["features"] == [] and other["numberMatched"] == 0, other["numberMatched"]


def test_the_headquarters_sees_more_than_the_town_user(base_url, year, town_cookie, parcels):
    mine = api_as(base_url, town_cookie, f"/api/v1/map/parcels?year={year}")["numberMatched"]
    assert 0 < mine < parcels["numberMatched"]


def test_the_open_cases_layer_draws_every_open_case_in_its_flag_colour_and_links_the_parcel_page(hq_map, api, base_url):
    """The demo's remediation tasks lie on low-efficiency parcels: ticking 督办事项 draws one marker
    per case the API returns, coloured by its flag, and the parcel page lists the parcel's cases."""
    data = api("/api/v1/map/cases")
    assert data["number_returned"] > 0, "the demo has no open cases on parcels"
    element(hq_map, "input#case-markers", "the open-cases box").click()
    WebDriverWait(hq_map, 30).until(lambda d: d.execute_script("return window.mujunMap.caseCount || 0") > 0,
                                    "the open cases were not drawn (window.mujunMap.caseCount)")
    assert hq_map.execute_script("return window.mujunMap.caseCount") == data["number_returned"]
    drawn = hq_map.execute_script("""
        var out = [];
        window.mujunMap.map.eachLayer(function (l) {
          if (l.feature && l.feature.properties && l.feature.properties.ref && l.options.fillColor) out.push([l.feature.properties.flag, l.options.fillColor]);
        });
        return out;""")
    colours = {"": "#1565c0", "yellow": "#f9a825", "red": "#c62828"}
    assert len(drawn) == data["number_returned"] and all(colours[f] == c for f, c in drawn), drawn[:5]
    case = next(f["properties"] for f in data["features"] if f["properties"].get("parcel_id"))
    hq_map.get(base_url + "/parcels/" + urllib.parse.quote(case["parcel_id"]))
    rows = elements(hq_map, "#linked-cases-table tr[data-case-id]", "the parcel's cases")
    assert any(case["ref"] in r.text for r in rows), [r.text for r in rows]
