"""The battle map (挂图作战) in a real browser: the parcels are drawn (as many as the API
returns), the legend shows the classes, a click on a parcel opens its card with a link to
the enterprise, the layers and the search work, and the town user `gushan` sees only
古山镇. Screenshot docs/screenshots/map.png when MUJUN_SCREENSHOTS=1.

Page contract (Public/map.js):
  window.mujunMap = { loaded, featureCount, numberMatched, loadMillis, features(),
                      openCard(id), setLayer(name), pixelOf(id), map (Leaflet), card }
  #legend li[data-key]   one per category of the chosen layer (A/B/C/D/none for 评价分类)
  #parcel-card[data-parcel="…"] with a.occupant-link (/enterprises/{code}?year=…)
  #layer-select input[name=layer][value=cls|low|cluster|survey], #map-q + #map-search
"""
from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import DEMO_ACCOUNTS, HOME_TOWN, http_get, http_login


def open_map(driver, base_url: str, query: str = "") -> float:
    """Opens /map and waits until map.js has drawn the parcels; returns the seconds taken."""
    started = time.monotonic()
    driver.get(base_url + "/map" + (("?" + query) if query else ""))
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return !!(window.mujunMap && window.mujunMap.loaded)"))
    elapsed = time.monotonic() - started
    error = driver.execute_script("return window.mujunMap.error")
    assert not error, f"the map reported an error: {error}"
    return elapsed


def features(driver) -> list[dict]:
    return driver.execute_script("return window.mujunMap.features()")


def api_as(base_url: str, cookie: str, path: str) -> dict:
    status, _, body = http_get(base_url, path, cookie)
    assert status == 200, f"GET {path} -> {status}: {body[:200]!r}"
    return json.loads(body)


def click_parcel(driver, parcel_id: str) -> None:
    """Zooms to a parcel and clicks the map canvas at its centre, as a person would."""
    # zoom so the parcel is large, away from the card's corner
    driver.execute_script("""
        var m = window.mujunMap, id = arguments[0], target = null;
        m.map.eachLayer(function (l) { if (l.feature && l.feature.properties && l.feature.properties.id === id && l.getBounds) target = l; });
        m.map.setView(target.getCenter(), 18, { animate: false });
    """, parcel_id)
    time.sleep(0.6)  # the canvas redraws on moveend
    pt = driver.execute_script("return window.mujunMap.pixelOf(arguments[0])", parcel_id)
    assert pt, f"parcel {parcel_id} is not drawn"
    el = driver.find_element(By.ID, "map")
    size = el.size
    ActionChains(driver).move_to_element_with_offset(el, pt["x"] - size["width"] // 2, pt["y"] - size["height"] // 2).click().perform()


# ------------------------------------------------------------------ the headquarters
def test_map_draws_every_parcel_with_a_legend(signed_in_hq, base_url, year, api):
    driver = signed_in_hq
    seconds = open_map(driver, base_url, f"year={year}")
    data = api("/api/v1/map/parcels", year=year)
    assert data["numberMatched"] > 0, "the demo database has no parcels"
    assert not data["bbox_required"]
    drawn = driver.execute_script("return window.mujunMap.featureCount")
    assert drawn == data["numberMatched"] == len(data["features"])
    assert {p["id"] for p in features(driver)} == {f["properties"]["id"] for f in data["features"]}
    print(f"\nmap: {drawn} parcels drawn {seconds:.2f} s after navigation "
          f"(fetch+draw {driver.execute_script('return window.mujunMap.loadMillis')} ms)")
    assert seconds < 15

    # Leaflet with the canvas renderer, no inline script
    assert driver.find_elements(By.CSS_SELECTOR, "#map canvas.leaflet-zoom-animated, #map .leaflet-pane canvas")
    for s in driver.find_elements(By.TAG_NAME, "script"):
        assert s.get_attribute("src") or s.get_attribute("type") == "application/json"

    # the legend of the class layer, with counts that add up to the parcels
    keys = [li.get_attribute("data-key") for li in driver.find_elements(By.CSS_SELECTOR, "#legend li[data-key]")]
    assert keys == ["A", "B", "C", "D", "none"]
    legend = driver.find_element(By.ID, "legend").text
    for label in ("A 类", "B 类", "C 类", "D 类"):
        assert label in legend
    counts = [int(e.text.replace(",", "")) for e in driver.find_elements(By.CSS_SELECTOR, "#legend .legend-n")]
    assert sum(counts) == drawn
    # the summary panel
    assert driver.find_element(By.ID, "sum-parcels").text.replace(",", "") == str(drawn)
    assert int(driver.find_element(By.ID, "sum-low").text.replace(",", "")) == data["summary"]["low_count"]

    # another layer
    driver.find_element(By.CSS_SELECTOR, '#layer-select input[value="low"]').click()
    WebDriverWait(driver, 10).until(lambda d: [li.get_attribute("data-key") for li in d.find_elements(By.CSS_SELECTOR, "#legend li[data-key]")] == ["low", "ok", "none"])
    assert "低效用地" in driver.find_element(By.ID, "legend").text
    driver.find_element(By.CSS_SELECTOR, '#layer-select input[value="cls"]').click()


def test_click_on_a_parcel_opens_its_card(signed_in_hq, base_url, year, api, screenshot):
    driver = signed_in_hq
    open_map(driver, base_url, f"year={year}")
    feats = [f["properties"] for f in api("/api/v1/map/parcels", year=year)["features"]]
    # a red (D-class) low-efficiency parcel of 古山镇, as in "clicks a red block"
    pick = next((p for p in feats if p["town"] == HOME_TOWN and p["cls"] == "D" and p["low"]), None) \
        or next(p for p in feats if p["cls"] in ("A", "B", "C", "D"))
    click_parcel(driver, pick["id"])
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.ID, "parcel-card").get_attribute("data-parcel") == pick["id"])
    card = driver.find_element(By.ID, "parcel-card")
    assert card.is_displayed()
    text = card.text
    assert pick["id"] in text and "计算面积" in text and "用地企业" in text
    links = card.find_elements(By.CSS_SELECTOR, "a.occupant-link")
    assert links, "the card links the occupants to their enterprise pages"
    href = urllib.parse.urlparse(links[0].get_attribute("href"))
    assert href.path.startswith("/enterprises/") and urllib.parse.parse_qs(href.query).get("year") == [str(year)]
    assert card.find_elements(By.CSS_SELECTOR, ".card-occupants .badge"), "occupants show their class"
    if pick["low"]:
        assert card.find_elements(By.CSS_SELECTOR, ".card-reasons li"), "a low-efficiency parcel gives its reasons"
    detail = card.find_element(By.ID, "card-page-link").get_attribute("href")
    assert urllib.parse.urlparse(detail).path == "/parcels/" + pick["id"]

    # the screenshot: the parcel's town in view, the card open
    driver.execute_script("""
        var m = window.mujunMap, town = arguments[0], b = null;
        m.map.eachLayer(function (l) {
          if (l.feature && l.feature.properties && l.feature.properties.town === town && l.getBounds)
            b = b ? b.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast());
        });
        m.map.fitBounds(b, { animate: false, paddingTopLeft: [20, 20], paddingBottomRight: [380, 20] });
    """, pick["town"])
    # the pointer away from the map, so no tooltip hides the selected parcel
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "page-title")).perform()
    time.sleep(1.0)
    screenshot("map")

    # the card follows a link to the enterprise page
    links = driver.find_elements(By.CSS_SELECTOR, "#parcel-card a.occupant-link")
    target = links[0].get_attribute("href")
    driver.get(target)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "enterprise-name"))


def test_search_and_cluster_outlines(signed_in_hq, base_url, year, api):
    driver = signed_in_hq
    open_map(driver, base_url, f"year={year}")
    feats = [f["properties"] for f in api("/api/v1/map/parcels", year=year)["features"]]
    target = feats[len(feats) // 2]["id"]
    box = driver.find_element(By.ID, "map-q")
    box.clear()
    box.send_keys(target)
    driver.find_element(By.ID, "map-search-go").click()
    WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.ID, "parcel-card").get_attribute("data-parcel") == target)
    assert driver.find_elements(By.CSS_SELECTOR, "#search-results .search-hit")

    # candidate clusters as outlines
    candidates = api("/api/v1/map/clusters", year=year, candidates=1)["features"]
    driver.find_element(By.ID, "cluster-outlines").click()
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return window.mujunMap.outlineCount") == len(candidates))
    # the cluster layer colours them
    driver.execute_script("window.mujunMap.setLayer('cluster')")
    assert "整治候选片区" in driver.find_element(By.ID, "legend").text
    # a cluster from the list opens the map on it
    if candidates:
        n = candidates[0]["properties"]["number"]
        open_map(driver, base_url, f"year={year}&cluster={n}")
        card = driver.find_element(By.ID, "parcel-card")
        WebDriverWait(driver, 10).until(lambda d: card.is_displayed() and f"第 {n} 片" in card.text)


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
    assert driver.execute_script("return window.mujunMap.featureCount") <= 40
    assert drawn_in_view()


def test_parcel_page_has_a_small_map(signed_in_hq, base_url, year, api):
    driver = signed_in_hq
    feats = [f["properties"] for f in api("/api/v1/map/parcels", year=year)["features"]]
    pid = feats[0]["id"]
    driver.get(f"{base_url}/parcels/{urllib.parse.quote(pid)}?year={year}")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "parcel-map").get_attribute("data-features"))
    assert int(driver.find_element(By.ID, "parcel-map").get_attribute("data-features")) >= 1
    assert driver.find_element(By.ID, "parcel-title").text.endswith(pid)
    assert driver.find_element(By.ID, "surveys")


# ------------------------------------------------------------------ the town user
def test_town_user_sees_only_its_own_parcels(signed_in_town, base_url, year):
    driver = signed_in_town
    open_map(driver, base_url, f"year={year}")
    cookie = http_login(base_url, "gushan", DEMO_ACCOUNTS["gushan"])
    data = api_as(base_url, cookie, f"/api/v1/map/parcels?year={year}")
    drawn = features(driver)
    assert drawn, "the town user sees its parcels"
    assert {p["town"] for p in drawn} == {HOME_TOWN}
    assert len(drawn) == driver.execute_script("return window.mujunMap.featureCount") == data["numberMatched"]
    # the town filter is fixed to its own town
    town = driver.find_element(By.ID, "map-town")
    assert town.get_attribute("disabled") is not None and town.get_attribute("value") == HOME_TOWN
    # asking for another town gives nothing
    other = api_as(base_url, cookie, f"/api/v1/map/parcels?year={year}&town={urllib.parse.quote('西城街道')}")
    assert other["features"] == []
    # the headquarters sees more
    hq = http_login(base_url, "hq", DEMO_ACCOUNTS["hq"])
    assert api_as(base_url, hq, f"/api/v1/map/parcels?year={year}")["numberMatched"] > len(drawn)
