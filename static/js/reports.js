// Segment report charts. Data comes from json_script elements; no inline script, no CDN.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const colours = ["#1f4e79", "#d9822b", "#2e8b57", "#8e44ad"];

  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function percentAxis(position) {
    return {
      position: position,
      beginAtZero: true,
      suggestedMax: 100,
      ticks: { callback: (value) => value + "%" },
      grid: { drawOnChartArea: position === "left" },
    };
  }

  const bySource = data("source-chart-data");
  const sourceCanvas = document.getElementById("source-chart");
  if (bySource && sourceCanvas) {
    new Chart(sourceCanvas, {
      type: "bar",
      data: {
        labels: bySource.labels,
        datasets: Object.entries(bySource.rates).map(([label, values], index) => ({
          label: label,
          data: values,
          backgroundColor: colours[index % colours.length],
        })),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: percentAxis("left") },
        plugins: { tooltip: { callbacks: { label: (item) => item.dataset.label + ": " + item.formattedValue + "%" } } },
      },
    });
  }

  const trend = data("trend-chart-data");
  const trendCanvas = document.getElementById("trend-chart");
  if (trend && trendCanvas) {
    const lines = Object.entries(trend.rates).map(([label, values], index) => ({
      type: "line",
      label: label,
      data: values,
      yAxisID: "rate",
      borderColor: colours[(index + 1) % colours.length],
      backgroundColor: colours[(index + 1) % colours.length],
      spanGaps: true,
      tension: 0.2,
    }));
    new Chart(trendCanvas, {
      data: {
        labels: trend.labels,
        datasets: [
          { type: "bar", label: "Leads", data: trend.leads, yAxisID: "leads", backgroundColor: "rgba(31, 78, 121, .18)" },
          ...lines,
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          rate: percentAxis("left"),
          leads: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "Leads" } },
        },
      },
    });
  }
})();
