// Ranking page: class counts per town as a stacked bar chart (Chart.js 3), and the
// filter selects submit on change. Data comes from <script type="application/json" id="chart-data">.
(function () {
  "use strict";
  var COLOURS = { A: "#2e7d32", B: "#1565c0", C: "#ef6c00", D: "#c62828", exempt: "#9e9e9e" };

  function autoSubmit() {
    var form = document.getElementById("filters");
    if (!form) return;
    ["town", "class"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.addEventListener("change", function () { form.submit(); });
    });
  }

  function drawChart() {
    var canvas = document.getElementById("class-chart");
    var source = document.getElementById("chart-data");
    if (!canvas || !source) return;
    if (typeof Chart === "undefined") {
      canvas.parentNode.textContent = "图表库未加载（/vendor/chart.js），分类统计见左侧。";
      return;
    }
    var data = JSON.parse(source.textContent);
    var datasets = data.classes.map(function (k, i) {
      return {
        label: data.labels[i],
        data: data.counts[k],
        backgroundColor: data.towns.map(function (t) {
          var c = COLOURS[k] || "#999";
          return data.selected && t !== data.selected ? c + "55" : c;
        }),
        stack: "all",
        borderWidth: 0
      };
    });
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: data.towns, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: {
            position: "top",
            labels: {
              boxWidth: 14,
              generateLabels: function (c) {
                var items = Chart.defaults.plugins.legend.labels.generateLabels(c);
                items.forEach(function (it) {
                  var col = COLOURS[data.classes[it.datasetIndex]] || "#999";
                  it.fillStyle = col; it.strokeStyle = col;
                });
                return items;
              }
            }
          },
          tooltip: { mode: "index", intersect: false }
        },
        scales: {
          x: { stacked: true, ticks: { autoSkip: false, maxRotation: 60, minRotation: 35, font: { size: 11 } } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "企业数" } }
        },
        onClick: function (evt, elements) {
          if (!elements.length) return;
          var town = data.towns[elements[0].index];
          var sel = document.getElementById("town");
          var form = document.getElementById("filters");
          if (sel && form) { sel.value = sel.value === town ? "" : town; form.submit(); }
        }
      }
    });
    canvas.dataset.drawn = "true";
    window.mujunClassChart = chart;
  }

  function start() { autoSubmit(); drawChart(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
