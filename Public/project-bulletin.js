// The project bulletin (/projects/bulletin, /projects/bulletins/N): each town's projects by state
// as stacked bars, and its progress as a line on a second axis (Chart.js 3).
// Data: <script type="application/json" id="bulletin-data">.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("bulletin-data");
    var canvas = document.getElementById("chart-towns");
    if (!source || !canvas) return;
    if (typeof Chart === "undefined") {
      canvas.parentNode.textContent = "图表库未加载（/vendor/chart.js），数据见下表。";
      return;
    }
    var d = JSON.parse(source.textContent);
    var chart = new Chart(canvas, {
      data: {
        labels: d.units,
        datasets: [
          { type: "bar", label: "已完成", data: d.completed, backgroundColor: "#2e7d32", stack: "s", yAxisID: "y" },
          { type: "bar", label: "按期推进", data: d.on_track, backgroundColor: "#1565c0", stack: "s", yAxisID: "y" },
          { type: "bar", label: "滞后", data: d.late, backgroundColor: "#c62828", stack: "s", yAxisID: "y" },
          { type: "bar", label: "未启动", data: d.not_started, backgroundColor: "#9e9e9e", stack: "s", yAxisID: "y" },
          { type: "line", label: "进度（%）", data: d.progress, borderColor: "#ef6c00", backgroundColor: "#ef6c00", yAxisID: "p", tension: 0 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "项目数" }, ticks: { precision: 0 } },
          p: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "进度（%）" } },
          x: { stacked: true }
        }
      }
    });
    canvas.setAttribute("data-drawn", String(chart.data.labels.length));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
