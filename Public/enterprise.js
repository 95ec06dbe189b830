// Enterprise page: value/benchmark ratio per indicator (bar chart) and the total score over
// the years (line chart), from <script type="application/json" id="enterprise-data">.
(function () {
  "use strict";
  var COLOURS = { A: "#2e7d32", B: "#1565c0", C: "#ef6c00", D: "#c62828" };

  function note(canvas, text) { canvas.parentNode.textContent = text; }

  function indicatorChart(data) {
    var canvas = document.getElementById("indicator-chart");
    if (!canvas) return;
    if (!data.indicators.length) { note(canvas, "不参评企业没有指标得分。"); return; }
    var ratios = data.indicators.map(function (d) { return d.ratio === null || d.ratio === undefined ? 0 : d.ratio; });
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.indicators.map(function (d) { return d.name + (d.missing ? "（缺失）" : ""); }),
        datasets: [{
          label: "指标值 / 基准值",
          data: ratios,
          backgroundColor: data.indicators.map(function (d, i) {
            if (d.missing) return "#bdbdbd";
            return ratios[i] >= 1 ? COLOURS.A : COLOURS.C;
          }),
          borderWidth: 0
        }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var d = data.indicators[ctx.dataIndex];
                if (d.missing) return "缺失，按平均分计";
                return "值/基准 " + ratios[ctx.dataIndex].toFixed(2);
              }
            }
          }
        },
        scales: {
          x: { beginAtZero: true, title: { display: true, text: "指标值 ÷ 基准值（1 = 基准）" } }
        }
      }
    });
    canvas.dataset.drawn = "true";
  }

  function historyChart(data) {
    var canvas = document.getElementById("history-chart");
    if (!canvas) return;
    if (!data.history.length) { note(canvas, "暂无历年记录。"); return; }
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.history.map(function (h) { return h.year + " 年"; }),
        datasets: [{
          label: "总分",
          data: data.history.map(function (h) { return h.score === undefined ? null : h.score; }),
          borderColor: "#9f1d20",
          backgroundColor: data.history.map(function (h) { return COLOURS[h.cls] || "#9e9e9e"; }),
          pointBackgroundColor: data.history.map(function (h) { return COLOURS[h.cls] || "#9e9e9e"; }),
          pointRadius: 7,
          pointHoverRadius: 9,
          tension: 0.2,
          spanGaps: true
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var h = data.history[ctx.dataIndex];
                if (h.score === undefined || h.score === null) return "不参评";
                return "总分 " + h.score.toFixed(2) + "，" + (h.cls ? h.cls + " 类" : "不参评");
              }
            }
          }
        },
        scales: { y: { beginAtZero: true, title: { display: true, text: "总分" } } }
      }
    });
    canvas.dataset.drawn = "true";
  }

  function start() {
    var source = document.getElementById("enterprise-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    if (typeof Chart === "undefined") {
      ["indicator-chart", "history-chart"].forEach(function (id) {
        var c = document.getElementById(id);
        if (c) note(c, "图表库未加载（/vendor/chart.js），数据见左侧表格。");
      });
      return;
    }
    indicatorChart(data);
    historyChart(data);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
