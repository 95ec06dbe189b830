#!/usr/bin/env python3
"""First paint of the battle map with all parcels, in headless Chromium (Selenium 4, Debian
`chromium` + `chromium-driver`).

Signs in as USER at BASE/login through the form, then opens BASE/map RUNS times with the
browser cache disabled (every run is a first visit: page, Leaflet, map.js and the parcels
API all fetched) and measures, from the navigation start of /map (performance.now() = 0),
the moment the map reports every parcel drawn:

  Public/map.js sets window.mujunMap = {loaded, featureCount, numberMatched, error, …} once
  the parcels API answered and L.geoJSON added every feature to the canvas renderer; a
  script installed before any page script (CDP Page.addScriptToEvaluateOnNewDocument) polls
  that on every animation frame, and when loaded && featureCount == numberMatched > 0 waits
  two more frames (Leaflet's canvas redraws on the next frame) and records the time.
  Without that hook (an older page) it falls back to: a canvas in .leaflet-overlay-pane and
  the /api/v1/map/parcels request finished (Performance API), then two frames.

Prints `map_first_paint_seconds <best> s` and `map_first_paint_features <n> parcels`, each
run on standard error. Exit 0 when measured (the ≤ 2 s target is judged by the caller).

usage: map_first_paint.py BASE_URL [--user hq] [--password …] [--runs 3] [--timeout 60]
"""
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PROBE = r"""
(function () {
  var start = null;
  function after2(fn) { requestAnimationFrame(function () { requestAnimationFrame(fn); }); }
  function done(info) {
    var t = performance.now();
    after2(function () {
      info.ready = t; info.painted = performance.now();
      info.canvases = document.querySelectorAll('.leaflet-overlay-pane canvas').length;
      window.__mujunFirstPaint = info;
    });
  }
  function check() {
    var m = window.mujunMap;
    if (m && m.loaded) {
      if (m.error) { window.__mujunFirstPaint = { error: String(m.error) }; return; }
      // all parcels drawn — or, in bbox mode with more than the answer's limit, the limit drawn
      if (m.featureCount > 0 && (m.featureCount >= (m.numberMatched || 0) || m.truncated)) {
        done({ hook: 'window.mujunMap', features: m.featureCount, matched: m.numberMatched,
               truncated: !!m.truncated, loadMillis: m.loadMillis });
        return;
      }
    } else if (!m && document.readyState === 'complete') {
      var api = performance.getEntriesByType('resource').filter(function (e) {
        return e.name.indexOf('/api/v1/map/parcels') >= 0 && e.responseEnd > 0; });
      if (api.length && document.querySelectorAll('.leaflet-overlay-pane canvas').length > 0) {
        done({ hook: 'canvas + /api/v1/map/parcels (no window.mujunMap)', features: null, matched: null,
               apiEnd: api[0].responseEnd });
        return;
      }
    }
    requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base_url")
    ap.add_argument("--user", default="hq")
    ap.add_argument("--password", default=os.environ.get("BENCH_LAND_MAP_PASSWORD", "Hq#2025demo"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--path", default="/map")
    ap.add_argument("--screenshot", help="save a PNG of the last run here")
    args = ap.parse_args()
    base = args.base_url.rstrip("/")

    opts = Options()
    opts.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1366,900", "--lang=zh-CN", "--disable-extensions", "--no-first-run"):
        opts.add_argument(a)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(args.timeout)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.get(base + "/login")
        driver.find_element(By.ID, "login").send_keys(args.user)
        driver.find_element(By.ID, "password").send_keys(args.password)
        driver.find_element(By.ID, "login-submit").click()
        WebDriverWait(driver, args.timeout).until(lambda d: "/login" not in d.current_url)
        if "/account/password" in driver.current_url:
            sys.exit(f"{args.user} must change its password first")
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        times = []
        info = {}
        for r in range(args.runs):
            driver.get("about:blank")
            t0 = time.perf_counter()
            driver.get(base + args.path)
            try:
                info = WebDriverWait(driver, args.timeout, poll_frequency=0.05).until(
                    lambda d: d.execute_script("return window.__mujunFirstPaint || null"))
            except TimeoutException:
                state = driver.execute_script(
                    "var m = window.mujunMap; return m ? {loaded: m.loaded, featureCount: m.featureCount, "
                    "numberMatched: m.numberMatched, error: m.error} : null")
                sys.exit(f"run {r + 1}: the map did not report all parcels drawn within {args.timeout:.0f} s "
                         f"(window.mujunMap = {state}; url {driver.current_url})")
            wall = time.perf_counter() - t0
            if info.get("error"):
                sys.exit(f"run {r + 1}: the map reported an error: {info['error']}")
            if info.get("truncated"):
                print("warning: the map loaded a truncated set (bbox mode)", file=sys.stderr)
            nav = driver.execute_script(
                "var n = performance.getEntriesByType('navigation')[0]; return n ? "
                "{ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd} : null") or {}
            api = driver.execute_script(
                "var e = performance.getEntriesByType('resource').filter(function (x) { "
                "return x.name.indexOf('/api/v1/map/parcels') >= 0; })[0]; return e ? "
                "{start: e.startTime, end: e.responseEnd, bytes: e.transferSize || e.encodedBodySize} : null") or {}
            seconds = info["painted"] / 1000.0
            times.append(seconds)
            print(f"run {r + 1}: all parcels drawn at {seconds:.3f} s after navigation start "
                  f"({info.get('hook')}: {info.get('features')} of {info.get('matched')} parcels, "
                  f"{info.get('canvases')} canvas; HTML first byte {nav.get('ttfb', 0) / 1000:.3f} s, "
                  f"DOMContentLoaded {nav.get('dcl', 0) / 1000:.3f} s, parcels API "
                  f"{api.get('start', 0) / 1000:.3f}–{api.get('end', 0) / 1000:.3f} s, {api.get('bytes', 0)} bytes; "
                  f"map.js loadMillis {info.get('loadMillis')}; wall {wall:.3f} s)", file=sys.stderr)
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        print(f"map_first_paint_seconds {min(times):.3f} s")
        if info.get("features") is not None:
            print(f"map_first_paint_features {info['features']} parcels")
    except WebDriverException as e:
        sys.exit(f"browser error: {e.msg if hasattr(e, 'msg') else e}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
