/* Forms: the error summary takes the focus when a page comes back with problems (so a
   screen reader reads it and a keyboard user starts there), and each of its links moves
   the focus to its field, not only the scroll. */
(function () {
  "use strict";
  const summary = document.querySelector(".atb-error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    const link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    const field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus();
  });
})();

/* A link to a folded form ("Record the outcome" on a visit card goes to #outcome) opens it:
   a browser scrolls to a closed <details> but leaves it closed. */
(function () {
  "use strict";
  function openTarget() {
    if (!location.hash) { return; }
    const target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
  openTarget();
  window.addEventListener("hashchange", openTarget);
})();
