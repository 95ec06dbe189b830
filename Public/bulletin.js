// Bulletin page: on-time and satisfaction rates of the ranked units as horizontal bars
// (Chart.js 3), with yellow and red counts in the tooltip. Data: <script id="bulletin-data">.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("bulletin-chart");
    var source = document.getElementById("bulletin-data");
    if (!canvas || !source) return;
    var data = JSON.parse(source.textContent);
    if (typeof Chart === "undefined") {
      canvas.parentNode.textContent = "图表库未加载（/vendor/chart.js），数据见下表。";
      return;
    }
    if (!data.units.length) {
      canvas.parentNode.textContent = "没有可排名的单位（应办复不足最低件数）。";
      return;
    }
    canvas.parentNode.style.height = Math.max(240, 26 * data.units.length + 60) + "px";
    var chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.units,
        datasets: [
          { label: "按时办复率 %", data: data.onTime, backgroundColor: "#1565c0" },
          { label: "满意率 %", data: data.satisfaction, backgroundColor: "#2e7d32" }
        ]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } },
        plugins: {
          tooltip: {
            callbacks: {
              afterBody: function (items) {
                var i = items[0].dataIndex;
                return "黄牌 " + data.yellow[i] + " · 红牌 " + data.red[i];
              }
            }
          }
        }
      }
    });
    canvas.setAttribute("data-ready", "1");
    window.mujunBulletinChart = chart;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
