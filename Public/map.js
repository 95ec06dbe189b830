// The battle map (挂图作战) and the small parcel maps, on Leaflet (Debian libjs-leaflet, served
// at /vendor/leaflet.js) with the canvas renderer and no base tiles unless the server passes a
// tile URL. Configuration comes from <script type="application/json" id="map-config">; the
// parcels from /api/v1/map/parcels (GeoJSON, CRS84). Leaflet wants [lat, lon]; GeoJSON gives
// [lon, lat], which L.geoJSON turns around.
//
// Hooks for tests and other scripts: window.mujunMap = { map, loaded, featureCount,
// numberMatched, features(), openCard(id), setLayer(name), pixelOf(id), card }.
(function () {
  "use strict";

  var CLASS_COLOURS = { A: "#2e7d32", B: "#1565c0", C: "#ef6c00", D: "#c62828", none: "#a7b1bc" };
  var CLASS_NAMES = { A: "A 类", B: "B 类", C: "C 类", D: "D 类", none: "无评价 / 不参评" };
  var LOW_COLOURS = { low: "#d32f2f", ok: "#7cb342", none: "#a7b1bc" };
  var LOW_NAMES = { low: "低效用地", ok: "非低效", none: "未认定" };
  var SURVEY_COLOURS = { none: "#a7b1bc", submitted: "#f9a825", confirmed: "#2e7d32", returned: "#c62828" };
  var SURVEY_NAMES = { none: "未调查", submitted: "已提交（待复核）", confirmed: "已确认", returned: "已退回" };
  var PROJECT_COLOURS = { late: "#c62828", on_track: "#1565c0", not_started: "#9575cd", completed: "#2e7d32", none: "#d5dbe0" };
  var PROJECT_NAMES = { late: "滞后", on_track: "按期推进", not_started: "未启动", completed: "已完成", none: "无项目" };
  var LAYER_NAMES = { cls: "评价分类", low: "低效用地", cluster: "低效连片", survey: "调查状态", project: "项目状态" };
  var YONGKANG = [28.9, 120.03];

  // ------------------------------------------------------------------ helpers
  function esc(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function num(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "—";
    return Number(x).toLocaleString("zh-CN", { minimumFractionDigits: digits === undefined ? 2 : digits,
                                               maximumFractionDigits: digits === undefined ? 2 : digits });
  }

  function qs(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== "") parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(v));
    });
    return parts.join("&");
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) throw new Error("登录已过期，请刷新页面重新登录");
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          var e = new Error(b.error || ("请求失败（" + r.status + "）"));
          e.status = r.status;
          throw e;
        });
      }
      return r.json();
    });
  }

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  // a stable, well-spread colour for a cluster number
  function clusterColour(n) {
    var h = Math.round((n * 137.508) % 360);
    var l = 38 + (n % 3) * 7;
    return "hsl(" + h + ",68%," + l + "%)";
  }

  function boundsOf(b) { return L.latLngBounds([b[1], b[0]], [b[3], b[2]]); }

  function classBadge(c) {
    return c ? '<span class="badge cls-' + esc(c) + '">' + esc(c) + "</span>" : '<span class="badge cls-exempt">—</span>';
  }

  // ------------------------------------------------------------------ styles
  function categoryOf(layer, p) {
    switch (layer) {
      case "low": return p.low === true ? "low" : (p.low === false ? "ok" : "none");
      case "survey": return SURVEY_COLOURS[p.survey] ? p.survey : "none";
      case "project": return p.proj && PROJECT_COLOURS[p.proj] ? p.proj : "none";
      case "cluster": return p.cluster ? (p.cand ? "cand" : "other") : "none";
      default: return CLASS_COLOURS[p.cls] ? p.cls : "none";
    }
  }

  function styleFor(layer, p, opts) {
    var s = { weight: 0.7, color: "#ffffff", opacity: 0.9, fillOpacity: 0.78 };
    var coarse = opts && opts.coarse;
    switch (layer) {
      case "low": s.fillColor = LOW_COLOURS[categoryOf(layer, p)]; break;
      case "survey": s.fillColor = SURVEY_COLOURS[categoryOf(layer, p)]; break;
      case "project":
        // a project's parcels are outlined, the others stay pale
        s.fillColor = PROJECT_COLOURS[categoryOf(layer, p)];
        if (p.proj) { s.color = "#263238"; s.weight = 1.4; s.fillOpacity = 0.85; } else { s.fillOpacity = 0.35; }
        break;
      case "cluster":
        if (p.cluster) {
          s.fillColor = clusterColour(p.cluster);
          if (p.cand) { s.fillOpacity = 0.85; s.color = "#263238"; s.weight = 0.9; }
          else { s.fillOpacity = 0.28; }
        } else { s.fillColor = LOW_COLOURS.none; s.fillOpacity = 0.3; }
        break;
      default: s.fillColor = CLASS_COLOURS[categoryOf(layer, p)];
    }
    // zoomed out, white outlines would wash the parcels out: outline them in their own colour
    if (coarse) { s.color = s.fillColor; s.weight = 0.6; s.opacity = s.fillOpacity; }
    if (opts && opts.focusCluster && p.cluster === opts.focusCluster) { s.color = "#111111"; s.weight = 1.6; }
    if (opts && opts.matched) { s.color = "#00bcd4"; s.weight = 2.5; }
    if (opts && opts.selected) { s.color = "#000000"; s.weight = 3; s.opacity = 1; }
    return s;
  }

  function legendItems(layer) {
    switch (layer) {
      case "low": return ["low", "ok", "none"].map(function (k) { return [k, LOW_COLOURS[k], LOW_NAMES[k]]; });
      case "survey": return ["none", "submitted", "confirmed", "returned"].map(function (k) { return [k, SURVEY_COLOURS[k], SURVEY_NAMES[k]]; });
      case "project": return ["late", "on_track", "not_started", "completed", "none"].map(function (k) { return [k, PROJECT_COLOURS[k], PROJECT_NAMES[k]]; });
      case "cluster": return [["cand", "linear-gradient(90deg,#c62828,#1565c0,#2e7d32,#ef6c00)", "整治候选片区（每片一色）"],
                              ["other", "rgba(120,144,156,.35)", "其他片区（淡色）"], ["none", LOW_COLOURS.none, "未认定"]];
      default: return ["A", "B", "C", "D", "none"].map(function (k) { return [k, CLASS_COLOURS[k], CLASS_NAMES[k]]; });
    }
  }

  // ------------------------------------------------------------------ the battle map
  function initBattleMap(el, cfg) {
    var map = L.map(el, { preferCanvas: true, zoomControl: true, minZoom: 5, maxZoom: 21,
                          attributionControl: !!cfg.tileURL, zoomSnap: 0.5 });
    var renderer = L.canvas({ padding: 0.5, tolerance: 2 });
    if (cfg.tileURL) {
      L.tileLayer(cfg.tileURL, { maxZoom: 21, attribution: cfg.tileAttribution || "" }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    map.setView(YONGKANG, 12);

    var state = {
      year: cfg.year, town: cfg.lockedTown || cfg.town || "", block: cfg.block || "", layer: cfg.layer || "cls",
      mode: "all", geo: null, byId: {}, props: [], selected: null, matched: {}, outlines: null,
      focusCluster: cfg.focus && cfg.focus.kind === "cluster" ? Number(cfg.focus.id) : null,
      loading: 0, lastKey: "", coarse: true, labels: null
    };
    var statusEl = document.getElementById("map-status");
    var cardEl = document.getElementById("parcel-card");
    var api = window.mujunMap = {
      map: map, loaded: false, featureCount: 0, numberMatched: 0, error: null, card: null, layer: state.layer, mode: "all",
      features: function () { return state.props.slice(); },
      openCard: openCard,
      setLayer: setLayer,
      pixelOf: function (id) {
        var l = state.byId[id];
        if (!l) return null;
        var c = map.latLngToContainerPoint(l.getCenter());
        var r = el.getBoundingClientRect();
        return { x: Math.round(c.x), y: Math.round(c.y), pageX: Math.round(r.left + c.x), pageY: Math.round(r.top + c.y) };
      }
    };

    function setStatus(text, isError) {
      if (!statusEl) return;
      statusEl.textContent = text || "";
      statusEl.hidden = !text;
      statusEl.className = "map-status" + (isError ? " error" : "");
    }

    function styleOf(p) {
      return styleFor(state.layer, p, { selected: state.selected === p.id, matched: state.matched[p.id], coarse: state.coarse,
                                        focusCluster: state.layer === "cluster" ? state.focusCluster : null });
    }

    function restyle() {
      if (!state.geo) return;
      state.geo.eachLayer(function (l) { l.setStyle(styleOf(l.feature.properties)); });
      if (state.selected && state.byId[state.selected]) state.byId[state.selected].bringToFront();
      drawLegend();
    }

    function bboxParam() {
      var b = map.getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (x) { return x.toFixed(6); }).join(",");
    }

    function params(extra) {
      var p = { year: state.year, town: state.town, block: state.block, limit: cfg.limit || "" };
      Object.keys(extra || {}).forEach(function (k) { p[k] = extra[k]; });
      return p;
    }

    function load(fit) {
      var extra = state.mode === "bbox" ? { bbox: bboxParam() } : {};
      var url = "/api/v1/map/parcels?" + qs(params(extra));
      if (url === state.lastKey && !fit) return Promise.resolve();
      state.lastKey = url;
      var ticket = ++state.loading;
      setStatus("正在加载地块…");
      var started = performance.now();
      return fetchJSON(url).then(function (data) {
        if (ticket !== state.loading) return;
        if (data.bbox_required && state.mode !== "bbox") {
          // too many parcels for one answer: load what the view shows, as it moves
          state.mode = api.mode = "bbox";
          state.lastKey = "";
          if (map.getZoom() < 14) map.setZoom(14, { animate: false });
          return load(false);
        }
        draw(data);
        summarise(data);
        api.numberMatched = data.numberMatched;
        api.truncated = !!data.truncated;
        api.loadMillis = Math.round(performance.now() - started);
        api.loads = (api.loads || 0) + 1;
        if (fit) fitView();
        api.loaded = true;
        var n = data.features.length;
        setStatus(n === 0 ? "当前筛选下没有地块" :
          (state.mode === "bbox" ? "当前范围 " + n.toLocaleString("zh-CN") + " 个地块" + (data.truncated ? "（已截断，请放大）" : "")
                                 : "已加载 " + n.toLocaleString("zh-CN") + " 个地块"));
        window.setTimeout(function () { if (ticket === state.loading && n > 0) setStatus(""); }, 2500);
      }).catch(function (e) {
        if (ticket !== state.loading) return;
        api.error = e.message;
        api.loaded = true;
        setStatus("地块加载失败：" + e.message, true);
      });
    }

    function draw(data) {
      if (state.geo) map.removeLayer(state.geo);
      state.byId = {};
      state.props = [];
      state.geo = L.geoJSON(data, {
        renderer: renderer,
        style: function (f) { return styleOf(f.properties); },
        onEachFeature: function (f, l) {
          var p = f.properties;
          state.byId[p.id] = l;
          state.props.push(p);
          l.on("click", function () { openCard(p.id); });
          l.bindTooltip(function () {
            return esc(p.id) + "<br>" + esc(p.town) + (p.block ? " · " + esc(p.block) : "") + " · " + num(p.area) + " 亩";
          }, { sticky: true, direction: "top", opacity: 0.95 });
        }
      }).addTo(map);
      api.featureCount = state.props.length;
      if (state.outlines) state.outlines.bringToFront();
      drawLabels();
      drawLegend();
    }

    // town names over their parcels when the map is zoomed out
    function drawLabels() {
      if (state.labels) map.removeLayer(state.labels);
      var boxes = {};
      state.props.forEach(function (p) {
        var b = state.byId[p.id].getBounds();
        boxes[p.town] = boxes[p.town] ? boxes[p.town].extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      });
      state.labels = L.layerGroup(Object.keys(boxes).map(function (t) {
        var b = boxes[t];
        var at = L.latLng(b.getNorth(), (b.getWest() + b.getEast()) / 2);
        return L.marker(at, { interactive: false, keyboard: false,
                              icon: L.divIcon({ className: "town-label", html: "<span>" + esc(t) + "</span>", iconSize: null }) });
      }));
      if (map.getZoom() < 15) state.labels.addTo(map);
    }

    function fitView() {
      if (cfg.focus && cfg.focus.bbox && !state.focused) {
        state.focused = true;
        map.fitBounds(boundsOf(cfg.focus.bbox), { padding: [60, 60], maxZoom: cfg.focus.kind === "parcel" ? 18 : 17 });
        if (cfg.focus.kind === "parcel") openCard(cfg.focus.id);
        if (cfg.focus.kind === "cluster" && cfg.focus.cluster) showCluster(cfg.focus.cluster);
        return;
      }
      if (state.geo && state.props.length) {
        var b = state.geo.getBounds();
        if (b.isValid()) map.fitBounds(b, { padding: [20, 20], maxZoom: 17 });
      }
    }

    // ---------------------------------------------------------------- legend and summary
    function drawLegend() {
      var box = document.getElementById("legend");
      if (!box) return;
      var counts = {};
      state.props.forEach(function (p) { var k = categoryOf(state.layer, p); counts[k] = (counts[k] || 0) + 1; });
      var html = '<div class="legend-title">' + esc(LAYER_NAMES[state.layer] || "") + ' <small class="muted">（地块数）</small></div><ul>';
      legendItems(state.layer).forEach(function (it) {
        html += '<li data-key="' + esc(it[0]) + '"><span class="swatch" style="background:' + esc(it[1]) + '"></span>' +
          esc(it[2]) + ' <span class="legend-n">' + (counts[it[0]] || 0).toLocaleString("zh-CN") + "</span></li>";
      });
      html += "</ul>";
      if (state.layer === "cluster") html += '<p class="muted">深色描边为整治候选片区；勾选下方选项可显示片区轮廓。</p>';
      box.innerHTML = html;
    }

    function summarise(data) {
      var s = data.summary || {};
      function set(id, v) { var e = document.getElementById(id); if (e) e.textContent = v; }
      set("sum-parcels", (s.parcels || 0).toLocaleString("zh-CN"));
      set("sum-area", num(s.area_mu));
      set("sum-low", (s.low_count || 0).toLocaleString("zh-CN"));
      set("sum-low-area", num(s.low_area_mu));
      set("sum-cand", (s.candidate_clusters || 0).toLocaleString("zh-CN"));
      set("sum-cand-area", num(s.candidate_area_mu));
      var sv = s.surveys || {};
      set("sum-surveys", "已确认 " + (sv.confirmed || 0) + "，待复核 " + (sv.submitted || 0) + "，退回 " + (sv.returned || 0) +
        "，未调查 " + (sv.none || 0));
      set("summary-scope", state.mode === "bbox" ? "当前视图范围" : "当前筛选");
    }

    // ---------------------------------------------------------------- the card
    function select(id) {
      var prev = state.selected;
      state.selected = id;
      [prev, id].forEach(function (k) {
        var l = k && state.byId[k];
        if (l) l.setStyle(styleOf(l.feature.properties));
      });
      if (id && state.byId[id]) state.byId[id].bringToFront();
    }

    function openCard(id) {
      if (!cardEl) return Promise.resolve(null);
      select(id);
      cardEl.hidden = false;
      cardEl.innerHTML = '<p class="muted">正在读取地块 ' + esc(id) + "…</p>";
      return fetchJSON("/api/v1/parcels/" + encodeURIComponent(id) + "?" + qs({ year: state.year })).then(function (c) {
        api.card = c;
        cardEl.innerHTML = renderCard(c);
        cardEl.setAttribute("data-parcel", c.id);
        var close = cardEl.querySelector(".card-close");
        if (close) close.addEventListener("click", closeCard);
        var zoom = cardEl.querySelector(".card-zoom");
        if (zoom && c.bbox) zoom.addEventListener("click", function () { map.fitBounds(boundsOf(c.bbox), { maxZoom: 18, padding: [60, 60] }); });
        return c;
      }).catch(function (e) {
        cardEl.innerHTML = '<button type="button" class="card-close" aria-label="关闭">×</button><p class="warning">' + esc(e.message) + "</p>";
        cardEl.querySelector(".card-close").addEventListener("click", closeCard);
        return null;
      });
    }

    // the card of a cluster the page was opened on (/map?cluster=N)
    function showCluster(c) {
      if (!cardEl) return;
      var h = '<button type="button" class="card-close" aria-label="关闭">×</button>';
      h += '<h2 class="card-title">低效用地连片 第 ' + c.number + " 片</h2>";
      h += '<p class="card-sub">' + esc(c.towns.join("、")) + (c.blocks.length ? " · " + esc(c.blocks.join("、")) : "") + (c.year ? " · " + c.year + " 年度" : "") + "</p>";
      h += '<p class="card-badges">' + (c.candidate ? '<span class="tag-cand">整治候选片区</span>' : "") + "</p>";
      h += '<dl class="card-facts"><dt>面积</dt><dd>' + num(c.area_mu) + " 亩</dd><dt>地块</dt><dd>" + c.count + " 个</dd>";
      h += "<dt>所在区块</dt><dd>低效占比 " + num(c.low_share * 100, 0) + "%</dd>";
      h += "<dt>用地企业</dt><dd>" + c.occupants + " 家</dd></dl>";
      h += '<h3>地块 <small>点击查看</small></h3><p class="cluster-parcels">' + c.parcels.map(function (id) {
        return '<button type="button" class="link cluster-parcel" data-id="' + esc(id) + '">' + esc(id) + "</button>";
      }).join(" ") + (c.count > c.parcels.length ? " …" : "") + "</p>";
      h += '<p class="card-actions"><a class="button" href="/clusters/' + c.number + "?year=" + encodeURIComponent(c.year) + '">地块、企业与认定理由</a> ' +
        '<a class="button secondary" href="/clusters?year=' + encodeURIComponent(c.year) + '">整治候选清单</a></p>';
      cardEl.innerHTML = h;
      cardEl.hidden = false;
      cardEl.querySelector(".card-close").addEventListener("click", closeCard);
      Array.prototype.forEach.call(cardEl.querySelectorAll(".cluster-parcel"), function (b) {
        b.addEventListener("click", function () { openCard(b.getAttribute("data-id")); });
      });
    }

    function closeCard() {
      cardEl.hidden = true;
      cardEl.removeAttribute("data-parcel");
      api.card = null;
      select(null);
    }

    function renderCard(c) {
      var h = '<button type="button" class="card-close" aria-label="关闭">×</button>';
      h += '<h2 class="card-title">地块 <span class="card-id">' + esc(c.id) + "</span></h2>";
      h += '<p class="card-sub">' + esc(c.town) + (c.block ? " · " + esc(c.block) : "") + (c.year ? " · " + c.year + " 年度" : "") + "</p>";
      h += '<p class="card-badges">';
      if (c.assessed) h += c.low_efficiency ? '<span class="tag-low">低效用地</span>' : '<span class="tag-ok">非低效</span>';
      if (c.occupant_class) h += " 主要用地企业 " + classBadge(c.occupant_class);
      if (c.cluster && c.cluster.candidate) h += ' <span class="tag-cand">整治候选片区</span>';
      h += "</p><dl class=\"card-facts\">";
      h += "<dt>计算面积</dt><dd>" + num(c.area_mu) + " 亩</dd>";
      h += "<dt>登记面积</dt><dd>" + (c.registered_mu !== null && c.registered_mu !== undefined ? num(c.registered_mu) + " 亩" : "—");
      if (c.area_mismatch && c.area_difference !== null && c.area_difference !== undefined) {
        h += ' <span class="flag-mismatch" title="计算面积与登记面积差异超过容差">差异 ' + (c.area_difference > 0 ? "+" : "") + num(c.area_difference * 100, 1) + "%</span>";
      }
      h += "</dd><dt>现状</dt><dd>" + esc(c.status_name || "—") + "</dd>";
      h += "<dt>容积率</dt><dd>" + num(c.far) + "</dd>";
      h += "<dt>亩均税收</dt><dd>" + (c.tax_per_mu !== null && c.tax_per_mu !== undefined ? num(c.tax_per_mu) + " 万元/亩" : "—") + "</dd>";
      h += "<dt>低效连片</dt><dd>";
      if (c.cluster) {
        h += '<a href="' + esc(c.cluster.link) + '">第 ' + c.cluster.number + " 片</a> · " + num(c.cluster.area_mu) + " 亩 · " +
          c.cluster.count + " 个低效地块 · 所在区块低效占比 " + num(c.cluster.low_share * 100, 0) + "%" + (c.cluster.candidate ? " · 候选" : "");
      } else h += "—";
      h += "</dd></dl>";

      h += '<h3>用地企业 <small>' + c.occupants.length + " 家</small></h3>";
      if (!c.occupants.length) h += '<p class="muted">没有登记的用地企业。</p>';
      else {
        h += '<ul class="card-occupants">';
        c.occupants.forEach(function (o) {
          var name = esc(o.name || o.credit_code);
          h += '<li data-credit-code="' + esc(o.credit_code) + '">' + (o.link ? '<a class="occupant-link" href="' + esc(o.link) + '">' + name + "</a>" : name);
          h += " " + (o.cls ? classBadge(o.cls) : "");
          if (o.total_score !== null && o.total_score !== undefined) h += ' <span class="score">总分 ' + num(o.total_score) + "</span>";
          h += '<br><span class="muted">' + esc(o.relation_name) + " · " + num(o.area_mu) + " 亩" +
            (o.attributed_tax !== null && o.attributed_tax !== undefined ? " · 归集税收 " + num(o.attributed_tax) + " 万元" : "") + "</span></li>";
        });
        h += "</ul>";
      }
      if (c.assessed) {
        h += "<h3>低效认定理由</h3>";
        if (!c.reasons.length) h += '<p class="muted">不属于低效用地。</p>';
        else h += '<ul class="card-reasons">' + c.reasons.map(function (r) { return '<li data-kind="' + esc(r.kind) + '">' + esc(r.text) + "</li>"; }).join("") + "</ul>";
      }
      if (c.survey || c.survey_count === 0) {
        h += "<h3>现场调查</h3>";
        if (!c.survey) h += '<p class="muted">未调查。</p>';
        else {
          var s = c.survey;
          h += '<p class="card-survey"><span class="survey-state st-' + esc(s.state) + '">' + esc(s.state_name) + "</span> " + esc(s.actual_use) +
            (s.idle ? "（闲置）" : "") + '<br><span class="muted">' + esc(s.surveyed_by_name || s.surveyed_by) + " 于 " + esc(s.surveyed_at_text) + " 调查";
          if (s.reviewed_at_text) h += "；" + esc(s.reviewed_by_name || s.reviewed_by) + " 于 " + esc(s.reviewed_at_text) + (s.state === "confirmed" ? " 确认" : " 退回");
          h += "</span></p>";
        }
      }
      if (c.projects && c.projects.length) {
        h += '<h3>整治项目</h3><ul class="card-projects">';
        c.projects.forEach(function (pr) {
          h += '<li data-project="' + esc(pr.id) + '" data-state="' + esc(pr.state) + '"><a class="project-link" href="' + esc(pr.link) + '">' +
            esc(pr.name) + "</a> " + '<span class="pstate pstate-' + esc(pr.state) + '">' + esc(pr.state_name) + "</span>" +
            ' <span class="muted">进度 ' + num(pr.progress * 100, 1) + "%</span>";
          if (pr.late.length) h += '<ul class="project-late">' + pr.late.map(function (t) { return "<li>" + esc(t) + "</li>"; }).join("") + "</ul>";
          if (pr.open_cases.length) {
            h += '<div class="project-cases">督办：' + pr.open_cases.map(function (k) {
              return '<a class="case-link" data-case-id="' + esc(k.id) + '" href="' + esc(k.link) + '">' + esc(k.ref) + "（" + esc(k.state_name) + "）</a>";
            }).join("、") + "</div>";
          }
          h += "</li>";
        });
        h += "</ul>";
      }
      h += '<p class="card-actions"><a class="button" id="card-page-link" href="' + esc(c.page) + '">地块详情' + (c.can_survey ? "与调查登记" : "") + "</a>";
      if (c.bbox) h += ' <button type="button" class="secondary card-zoom">定位</button>';
      h += "</p>";
      return h;
    }

    // ---------------------------------------------------------------- layers, filters, search, outlines
    function setLayer(name) {
      if (!LAYER_NAMES[name]) return;
      state.layer = api.layer = name;
      var radio = document.querySelector('#layer-select input[value="' + name + '"]');
      if (radio) radio.checked = true;
      restyle();
      syncURL();
    }

    function syncURL() {
      var p = { year: state.year, town: cfg.lockedTown ? "" : state.town, block: state.block, layer: state.layer === "cls" ? "" : state.layer };
      if (state.focusCluster) p.cluster = state.focusCluster;
      var q = qs(p);
      history.replaceState(null, "", "/map" + (q ? "?" + q : ""));
    }

    function filterBlocks() {
      var sel = document.getElementById("map-block");
      if (!sel) return;
      Array.prototype.forEach.call(sel.options, function (o) {
        var t = o.getAttribute("data-town");
        o.hidden = !!(t && state.town && t !== state.town);
      });
      if (sel.selectedOptions.length && sel.selectedOptions[0].hidden) { sel.value = ""; state.block = ""; }
    }

    function reloadAll() {
      state.mode = api.mode = "all";
      state.lastKey = "";
      state.focused = true;
      if (cardEl) closeCard();
      syncURL();
      load(true);
      if (state.outlines) loadOutlines();
    }

    var yearSel = document.getElementById("map-year");
    if (yearSel) yearSel.addEventListener("change", function () {
      state.year = Number(yearSel.value);
      var title = document.querySelector("#page-title small");
      if (title) title.textContent = state.year + " 年度";
      reloadAll();
    });
    var townSel = document.getElementById("map-town");
    if (townSel && !townSel.disabled) townSel.addEventListener("change", function () {
      state.town = townSel.value;
      filterBlocks();
      reloadAll();
    });
    var blockSel = document.getElementById("map-block");
    if (blockSel) blockSel.addEventListener("change", function () { state.block = blockSel.value; reloadAll(); });
    Array.prototype.forEach.call(document.querySelectorAll('#layer-select input[name="layer"]'), function (r) {
      r.addEventListener("change", function () { if (r.checked) setLayer(r.value); });
    });
    var filterForm = document.getElementById("map-filters");
    if (filterForm) filterForm.addEventListener("submit", function (e) { e.preventDefault(); });
    filterBlocks();

    var outlineBox = document.getElementById("cluster-outlines");
    function outlineStyle(f) {
      var focus = state.focusCluster === f.properties.number;
      if (state.coarse) return { color: focus ? "#000000" : "#6a1b9a", weight: focus ? 3 : 1.4, fill: false, opacity: 0.9 };
      return { color: focus ? "#000000" : "#6a1b9a", weight: focus ? 4 : 2.5, dashArray: "7 5", fill: false, opacity: 0.95 };
    }
    function loadOutlines() {
      var url = "/api/v1/map/clusters?" + qs(params({ candidates: 1 }));
      return fetchJSON(url).then(function (data) {
        if (state.outlines) map.removeLayer(state.outlines);
        state.outlines = L.geoJSON(data, {
          renderer: renderer,
          style: outlineStyle,
          onEachFeature: function (f, l) {
            var p = f.properties;
            l.bindTooltip("第 " + p.number + " 片 · " + num(p.area) + " 亩 · " + p.count + " 个低效地块 · 所在区块低效占比 " + num(p.low_share * 100, 0) + "%",
                          { sticky: true });
          }
        }).addTo(map);
        api.outlineCount = data.features.length;
      }).catch(function (e) { setStatus("片区轮廓加载失败：" + e.message, true); });
    }
    if (outlineBox) outlineBox.addEventListener("change", function () {
      if (outlineBox.checked) loadOutlines();
      else if (state.outlines) { map.removeLayer(state.outlines); state.outlines = null; api.outlineCount = 0; }
    });

    // the open cases (督办事项) on their parcels: blue in progress, yellow and red when overdue
    var caseBox = document.getElementById("case-markers");
    var CASE_COLOURS = { "": "#1565c0", yellow: "#f9a825", red: "#c62828" };
    function loadCases() {
      return fetchJSON("/api/v1/map/cases").then(function (data) {
        if (state.cases) map.removeLayer(state.cases);
        state.cases = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            var flag = f.properties.flag || "";
            return L.circleMarker(latlng, { renderer: renderer, radius: flag === "red" ? 8 : 6, color: "#ffffff", weight: 1.5,
                                            fillColor: CASE_COLOURS[flag] || CASE_COLOURS[""], fillOpacity: 0.95 });
          },
          onEachFeature: function (f, l) {
            var p = f.properties;
            l.bindPopup('<strong>' + esc(p.type_name) + " " + esc(p.ref) + '</strong><br>' + esc(p.title) + "<br>" +
                        esc(p.lead_unit || "待交办") + " · " + esc(p.state_name) +
                        (p.flag === "red" ? ' · <span class="flag flag-red">红牌</span>' : p.flag === "yellow" ? ' · <span class="flag flag-yellow">黄牌</span>' : "") +
                        '<br><a href="' + esc(p.url) + '">查看督办事项</a>');
          }
        }).addTo(map);
        api.caseCount = data.features.length;
        api.caseFlags = data.features.map(function (f) { return f.properties.flag || ""; });
      }).catch(function (e) { setStatus("督办事项加载失败：" + e.message, true); });
    }
    if (caseBox) caseBox.addEventListener("change", function () {
      if (caseBox.checked) loadCases();
      else if (state.cases) { map.removeLayer(state.cases); state.cases = null; api.caseCount = 0; }
    });

    var searchForm = document.getElementById("map-search");
    var results = document.getElementById("search-results");
    if (searchForm) searchForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = document.getElementById("map-q").value.trim();
      if (!q) return;
      results.hidden = false;
      results.innerHTML = '<p class="muted">正在搜索…</p>';
      fetchJSON("/api/v1/map/search?" + qs({ q: q, year: state.year })).then(function (r) {
        var old = state.matched;
        state.matched = {};
        r.matches.forEach(function (m) { state.matched[m.id] = true; });
        Object.keys(old).concat(Object.keys(state.matched)).forEach(function (id) {
          var l = state.byId[id];
          if (l) l.setStyle(styleOf(l.feature.properties));
        });
        api.searchCount = r.matches.length;
        if (!r.matches.length) { results.innerHTML = '<p class="muted">没有找到“' + esc(q) + "”。</p>"; return; }
        var h = '<p class="muted">找到 ' + r.total + " 个地块" + (r.total > r.matches.length ? "，显示前 " + r.matches.length + " 个" : "") +
          ' <button type="button" class="link search-clear">清除</button></p><ul>';
        r.matches.forEach(function (m) {
          h += '<li><button type="button" class="link search-hit" data-id="' + esc(m.id) + '">' + esc(m.id) + "</button> " +
            '<span class="muted">' + esc(m.town) + (m.names.length ? " · " + esc(m.names.slice(0, 3).join("、")) + (m.names.length > 3 ? " 等" : "") : "") + "</span></li>";
        });
        results.innerHTML = h + "</ul>";
        Array.prototype.forEach.call(results.querySelectorAll(".search-hit"), function (b) {
          b.addEventListener("click", function () {
            var m = r.matches.filter(function (x) { return x.id === b.getAttribute("data-id"); })[0];
            if (m && m.bbox) map.fitBounds(boundsOf(m.bbox), { maxZoom: 18, padding: [60, 60] });
            openCard(m.id);
          });
        });
        results.querySelector(".search-clear").addEventListener("click", function () {
          var had = state.matched;
          state.matched = {};
          Object.keys(had).forEach(function (id) { var l = state.byId[id]; if (l) l.setStyle(styleOf(l.feature.properties)); });
          results.hidden = true;
          results.innerHTML = "";
        });
        if (r.bbox) map.fitBounds(boundsOf(r.bbox), { maxZoom: 18, padding: [50, 50] });
        if (r.matches.length === 1) openCard(r.matches[0].id);
      }).catch(function (e2) { results.innerHTML = '<p class="warning">' + esc(e2.message) + "</p>"; });
    });

    map.on("zoomend", function () {
      var coarse = map.getZoom() < 15;
      if (state.labels) {
        if (coarse && !map.hasLayer(state.labels)) state.labels.addTo(map);
        if (!coarse && map.hasLayer(state.labels)) map.removeLayer(state.labels);
      }
      if (coarse !== state.coarse) {
        state.coarse = coarse;
        restyle();
        if (state.outlines) state.outlines.setStyle(outlineStyle);
      }
    });

    var moveTimer = null;
    map.on("moveend", function () {
      if (state.mode !== "bbox") return;
      window.clearTimeout(moveTimer);
      moveTimer = window.setTimeout(function () { load(false); }, 250);
    });

    drawLegend();
    load(true);
    if (outlineBox && outlineBox.checked) loadOutlines();
  }

  // ------------------------------------------------------------------ small maps (parcel page, /my)
  function initMiniMap(el) {
    var data = readJSON(el.getAttribute("data-source"));
    if (!data || !data.features || !data.features.length) { el.textContent = "没有可显示的地块。"; return; }
    var highlight = el.getAttribute("data-highlight");
    var year = el.getAttribute("data-year");
    var map = L.map(el, { preferCanvas: true, scrollWheelZoom: false, attributionControl: false, maxZoom: 20 });
    L.control.scale({ imperial: false }).addTo(map);
    var target = null;
    var geo = L.geoJSON(data, {
      renderer: L.canvas({ padding: 0.3 }),
      style: function (f) {
        var p = f.properties;
        var mine = highlight ? p.id === highlight : true;
        return {
          color: mine && highlight ? "#b71c1c" : "#ffffff", weight: mine && highlight ? 3 : 0.8, opacity: 1,
          fillColor: p.low ? "#e57373" : (mine ? "#90a4ae" : "#cfd8dc"), fillOpacity: mine ? 0.85 : 0.6
        };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        if (p.id === highlight) target = l;
        l.bindTooltip(esc(p.id) + " · " + num(p.area) + " 亩" + (p.low ? " · 低效" : ""), { sticky: true });
        if (p.id !== highlight) {
          l.on("click", function () { window.location.href = "/parcels/" + encodeURIComponent(p.id) + (year ? "?year=" + encodeURIComponent(year) : ""); });
        }
      }
    }).addTo(map);
    if (target) { target.bringToFront(); map.fitBounds(target.getBounds().pad(1.2), { maxZoom: 18 }); }
    else map.fitBounds(geo.getBounds().pad(0.15), { maxZoom: 18 });
    el.setAttribute("data-features", String(data.features.length));
  }

  function start() {
    var el = document.getElementById("map");
    var minis = document.querySelectorAll(".mini-map[data-source]");
    if (typeof L === "undefined") {
      var msg = "地图库未加载（/vendor/leaflet.js，Debian 软件包 libjs-leaflet）。";
      if (el) el.textContent = msg;
      Array.prototype.forEach.call(minis, function (m) { m.textContent = msg; });
      window.mujunMap = { loaded: true, error: msg, featureCount: 0 };
      return;
    }
    var cfg = readJSON("map-config");
    if (el && cfg) initBattleMap(el, cfg);
    Array.prototype.forEach.call(minis, initMiniMap);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
