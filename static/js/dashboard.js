/* The performance dashboard's charts, drawn from the figures the page carries as JSON.
   Chart.js is served by the portal itself (vendor/chartjs). */
(function () {
  "use strict";
  const source = document.getElementById("dashboard-figures");
  if (!source || typeof Chart === "undefined") { return; }
  const figures = JSON.parse(source.textContent);
  const blue = "#005eb8", grey = "#768692", red = "#da291c";

  function bars(id, rows, options) {
    const canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: (options && options.type) || "bar",
      data: {
        labels: rows.map(function (row) { return row.label; }),
        datasets: [{ label: (options && options.label) || "Referrals", data: rows.map(function (row) { return row.count; }), backgroundColor: blue }]
      },
      options: {
        indexAxis: (options && options.horizontal) ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: (options && options.horizontal)
          ? { x: { beginAtZero: true, ticks: { precision: 0 } } }
          : { y: { beginAtZero: true, ticks: { precision: 0 } } },
        animation: false
      }
    });
  }

  const weeks = figures.two_hour.weeks;
  const twoHour = document.getElementById("chart-two-hour");
  if (twoHour) {
    new Chart(twoHour, {
      data: {
        labels: weeks.map(function (w) { return w.week; }),
        datasets: [
          { type: "bar", label: "In time (%)", data: weeks.map(function (w) { return Math.round(w.share * 100); }), backgroundColor: blue },
          { type: "line", label: "National standard (70%)", data: weeks.map(function () { return 70; }), borderColor: red, pointRadius: 0 }
        ]
      },
      options: { scales: { y: { min: 0, max: 100 } }, animation: false }
    });
  }
  bars("chart-waits", figures.response_times.map(function (r) { return { label: r.band, count: r.count }; }), { label: "People" });
  bars("chart-week", figures.referrals.week, { type: "line" });
  bars("chart-source", figures.referrals.source, { horizontal: true });
  bars("chart-reason", figures.referrals.reason, { horizontal: true });
  bars("chart-locality", figures.referrals.locality, { horizontal: true });
  bars("chart-outcomes", figures.outcomes, { horizontal: true, label: "Episodes" });
  bars("chart-beds", figures.beds, { type: "line", label: "Beds in use" });
  bars("chart-caseloads", figures.caseloads, { horizontal: true, label: "People" });
  bars("chart-actions", figures.overdue_actions, { horizontal: true, label: "Actions" });
  void grey;
})();
