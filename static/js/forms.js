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
