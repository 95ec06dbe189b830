// The war room (/projects/dashboard): each unit's completion of its targets as bars, and the
// city's cumulative achievement by month against the year's target (Chart.js 3).
// Data: <script type="application/json" id="dashboard-data">.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-data");
    var bars = document.getElementById("chart-units");
    var trend = document.getElementById("chart-trend");
    if (!source || !bars || !trend) return;
    if (typeof Chart === "undefined") {
      bars.parentNode.textContent = "图表库未加载（/vendor/chart.js），数据见下表。";
      return;
    }
    var data = JSON.parse(source.textContent);
    var units = new Chart(bars, {
      type: "bar",
      data: {
        labels: data.units,
        datasets: data.indicators.map(function (ind, i) {
          return { label: ind.name, data: ind.rates, backgroundColor: ind.colour, borderWidth: 0 };
        })
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, suggestedMax: 100, title: { display: true, text: "完成率（%）" } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + "：" + c.parsed.x.toFixed(1) + "%"; } } } }
      }
    });
    var months = data.trend.map(function (_, i) { return (i + 1) + "月"; });
    var lines = new Chart(trend, {
      type: "line",
      data: {
        labels: months,
        datasets: [
          { label: data.trend_name + "（累计完成）", data: data.trend, borderColor: "#1565c0", backgroundColor: "#1565c033", fill: true, tension: 0 },
          { label: "年度目标", data: months.map(function () { return data.trend_target; }), borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { min: 0 } } }
    });
    window.mujunDashboard = { units: units, trend: lines };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
