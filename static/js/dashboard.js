/* The performance dashboard's charts, drawn from the figures the page carries as JSON.
   Chart.js is served by the portal itself (vendor/chartjs). */
(function () {
  "use strict";
  const source = document.getElementById("dashboard-figures");
  if (!source || typeof Chart === "undefined") { return; }
  const figures = JSON.parse(source.textContent);
  const blue = "#005eb8", grey = "#768692", red = "#da291c";

  // A long label ("Palliative or end of life crisis") on lines of about 22 characters, so a
  // horizontal chart's axis does not clip it.
  function wrapped(label) {
    const lines = [];
    String(label).split(" ").forEach(function (word) {
      const last = lines.length - 1;
      if (last >= 0 && (lines[last] + " " + word).length <= 22) { lines[last] += " " + word; }
      else { lines.push(word); }
    });
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function bars(id, rows, options) {
    const canvas = document.getElementById(id);
    if (!canvas) { return; }
    const horizontal = options && options.horizontal;
    const labels = rows.map(function (row) { return horizontal ? wrapped(row.label) : row.label; });
    if (horizontal) {
      // Room for every row and its wrapped label: the chart grows with its rows, and with
      // its longest label's lines ("Sunderland West One Community Integrated Team": three).
      const lines = Math.max.apply(null, labels.map(function (l) { return Array.isArray(l) ? l.length : 1; }).concat([1]));
      const box = document.createElement("div");
      box.className = "atb-chart-rows";
      box.style.setProperty("--atb-chart-rows", String(Math.max(rows.length, 3)));
      box.style.setProperty("--atb-chart-lines", String(Math.max(lines, 2)));
      canvas.before(box);
      box.appendChild(canvas);
    }
    new Chart(canvas, {
      type: (options && options.type) || "bar",
      data: {
        labels: labels,
        datasets: [{ label: (options && options.label) || "Referrals", data: rows.map(function (row) { return row.count; }), backgroundColor: blue, borderColor: blue }]
      },
      options: {
        maintainAspectRatio: !horizontal,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: (options && options.horizontal)
          // Every row keeps its label: Chart.js would otherwise skip every other one.
          ? { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } }
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
        labels: weeks.map(function (w) { return w.label; }),
        datasets: [
          // A week with no 2-hour response has no bar (not a bar at 0%).
          { type: "bar", label: "In time (%)", data: weeks.map(function (w) { return w.share === null ? null : Math.round(w.share * 100); }), backgroundColor: blue, order: 2 },
          // The standard across every week, drawn over the bars; a period of one week
          // still shows it, as a short dash.
          { type: "line", label: "National standard (70%)", data: weeks.map(function () { return 70; }), borderColor: red, backgroundColor: red, borderWidth: 2, pointStyle: "line", pointRadius: weeks.length === 1 ? 24 : 0, order: 1 }
        ]
      },
      options: { scales: { y: { min: 0, max: 100, ticks: { callback: function (value) { return value + "%"; } } } }, plugins: { legend: { labels: { usePointStyle: true } } }, animation: false }
    });
  }
  bars("chart-waits", figures.response_times.map(function (r) { return { label: r.band, count: r.count }; }), { label: "People" });
  bars("chart-week", figures.referrals.week, { type: "line" });
  bars("chart-source", figures.referrals.source, { horizontal: true });
  bars("chart-reason", figures.referrals.reason, { horizontal: true });
  bars("chart-locality", figures.referrals.locality, { horizontal: true });
  bars("chart-outcomes", figures.outcomes, { horizontal: true, label: "Episodes" });
  bars("chart-beds", figures.beds, { type: "line", label: "Beds in use" });

  // Demand (referrals, bars) against capacity (responder-hours on the rota, a line) on
  // axes of their own: the two are counted in different units.
  function demandAndCapacity(id, rows) {
    const canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      data: {
        labels: rows.map(function (row) { return row.label; }),
        datasets: [
          { type: "bar", label: "Referrals received", data: rows.map(function (row) { return row.referrals; }), backgroundColor: blue, yAxisID: "y", order: 2 },
          { type: "line", label: "Responder-hours on the rota", data: rows.map(function (row) { return row.responder_hours; }), borderColor: grey, backgroundColor: grey, yAxisID: "hours", order: 1 }
        ]
      },
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Referrals" } },
          hours: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Responder-hours" } }
        },
        animation: false
      }
    });
  }
  demandAndCapacity("chart-demand-hour", figures.demand_capacity.by_hour);
  demandAndCapacity("chart-demand-day", figures.demand_capacity.by_weekday);
  bars("chart-caseloads", figures.caseloads, { horizontal: true, label: "People" });
  bars("chart-actions", figures.overdue_actions, { horizontal: true, label: "Actions" });
  void grey;
})();
