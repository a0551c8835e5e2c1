/* The referral form in the browser:
   - the NHS number's live check (htmx swaps its result under the number): a number it
     now accepts loses the error an earlier submit left beside it, and for one of the
     user's own patients (the only records the check names) the empty name and date of
     birth boxes are filled from their record;
   - the Community Integrated Team list is only for a referral to the teams: disabled
     (and ignored by the server) for Recovery at Home. */
(function () {
  "use strict";
  const form = document.querySelector("form[data-referral-form]");
  if (!form) { return; }

  function clearError(input) {
    input.classList.remove("is-invalid");
    input.removeAttribute("aria-invalid");
    const box = input.closest(".mb-3") || input.parentElement;
    box.querySelectorAll(".invalid-feedback").forEach(function (feedback) { feedback.remove(); });
  }

  function fillIfEmpty(name, value) {
    const input = form.elements.namedItem(name);
    if (!input || !value || input.value.trim() !== "") { return false; }
    input.value = value;
    clearError(input);
    return true;
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "patient-lookup") { return; }
    const result = event.target.querySelector("[data-lookup]");
    const number = form.elements.namedItem("nhs_number");
    if (!result || !number) { return; }
    if (result.dataset.lookup !== "invalid") { clearError(number); }
    if (result.dataset.lookup !== "known") { return; }
    const filled = [
      fillIfEmpty("given_name", result.dataset.givenName),
      fillIfEmpty("family_name", result.dataset.familyName),
      fillIfEmpty("date_of_birth_day", result.dataset.birthDay),
      fillIfEmpty("date_of_birth_month", result.dataset.birthMonth),
      fillIfEmpty("date_of_birth_year", result.dataset.birthYear),
    ];
    const note = result.querySelector("[data-filled-note]");
    if (note && filled.some(Boolean)) { note.hidden = false; }
  });

  const team = form.elements.namedItem("team");
  const services = form.querySelectorAll("input[name='service']");
  function teamOnlyForTheTeams() {
    if (!team) { return; }
    const chosen = form.querySelector("input[name='service']:checked");
    team.disabled = Boolean(chosen) && chosen.value !== team.dataset.teamsService;
  }
  services.forEach(function (radio) { radio.addEventListener("change", teamOnlyForTheTeams); });
  teamOnlyForTheTeams();
})();
