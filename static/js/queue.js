// The Recovery at Home queue: a countdown per row, the row's colour as time runs out,
// and a chime plus a screen-reader announcement when a new referral appears.
(function () {
  "use strict";
  // The window and the labels are the page's (recovery_at_home.clock), on the table.
  var known = null;

  function clock() {
    var table = document.querySelector("table.atb-queue");
    var data = table ? table.dataset : {};
    return {
      dueSoonMs: Number(data.dueSoonSeconds || 0) * 1000,
      labels: { on_time: data.labelOnTime, due_soon: data.labelDueSoon, breached: data.labelBreached }
    };
  }

  function describe(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var hours = Math.floor(minutes / 60);
    var text = hours ? hours + " h " + (minutes % 60) + " min" : minutes + " min";
    return ms >= 0 ? text + " left" : text + " late";
  }

  function tick() {
    var now = Date.now();
    var settings = clock();
    document.querySelectorAll("[data-due]").forEach(function (cell) {
      var ms = Date.parse(cell.dataset.due) - now;
      var row = cell.closest("tr");
      cell.textContent = describe(ms);
      if (!row || row.dataset.state === "arrived") { return; }
      var state = ms <= 0 ? "breached" : ms <= settings.dueSoonMs ? "due_soon" : "on_time";
      if (row.dataset.state !== state) {
        row.classList.remove("atb-queue-" + row.dataset.state);
        row.classList.add("atb-queue-" + state);
        row.dataset.state = state;
        var label = row.querySelector(".atb-state-label");
        if (label) { label.textContent = settings.labels[state]; }
      }
    });
  }

  function chime() {
    try {
      var audio = new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var volume = audio.createGain();
      tone.frequency.value = 880;
      volume.gain.value = 0.15;
      tone.connect(volume);
      volume.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* no sound available: the highlight and announcement remain */ }
  }

  function noticeNewReferrals() {
    var rows = document.querySelectorAll("tr[data-reference]");
    var seen = new Set();
    var fresh = [];
    rows.forEach(function (row) {
      seen.add(row.dataset.reference);
      if (known && !known.has(row.dataset.reference)) {
        row.classList.add("atb-queue-new");
        fresh.push(row.dataset.reference);
      }
    });
    if (fresh.length) {
      chime();
      var announcer = document.getElementById("queue-announcer");
      if (announcer) { announcer.textContent = "New referral: " + fresh.join(", "); }
    }
    known = seen;
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    noticeNewReferrals();
    window.setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function () {
    tick();
    noticeNewReferrals();
  });
})();
