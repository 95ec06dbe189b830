// The quota ledger's page (/quota/N): each town's new farmland and reclaimed construction quota —
// the sub-projects' planned quantities, credited, used and the balance — as grouped bars (Chart.js 3). Data: <script id="quota-data">.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("quota-data");
    var canvas = document.getElementById("chart-quota");
    if (!source || !canvas) return;
    if (typeof Chart === "undefined") {
      canvas.parentNode.textContent = "图表库未加载（/vendor/chart.js），数据见余额表。";
      return;
    }
    var d = JSON.parse(source.textContent);
    var nf = d.series.new_farmland, rc = d.series.reclaimed_construction;
    var chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: d.towns,
        datasets: [
          { label: "新增耕地 计划", data: nf.planned, backgroundColor: "#c8e6c9", stack: "nf-plan" },
          { label: "新增耕地 入账", data: nf.credited, backgroundColor: "#81c784", stack: "nf-in" },
          { label: "新增耕地 使用", data: nf.used, backgroundColor: "#e57373", stack: "nf-out" },
          { label: "新增耕地 余额", data: nf.balance, backgroundColor: "#2e7d32", stack: "nf-bal" },
          { label: "建设用地复垦 计划", data: rc.planned, backgroundColor: "#bbdefb", stack: "rc-plan" },
          { label: "建设用地复垦 入账", data: rc.credited, backgroundColor: "#64b5f6", stack: "rc-in" },
          { label: "建设用地复垦 使用", data: rc.used, backgroundColor: "#ffb74d", stack: "rc-out" },
          { label: "建设用地复垦 余额", data: rc.balance, backgroundColor: "#1565c0", stack: "rc-bal" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: "亩" } } }
      }
    });
    canvas.setAttribute("data-drawn", String(chart.data.labels.length));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
