// The signed-in session, as a page sees it: a warning before the idle timeout signs the
// person out, a "Stay signed in" that renews it, and, once signed out (here, in another
// tab, or by the timeout), every poll on the page stopped and a notice saying so, instead
// of the sign-in page swapped into the page (the portal answers a signed-out htmx request
// with 401: core.middleware.signed_out_for_htmx).
(function () {
  "use strict";
  var body = document.body;
  var idleMs = Number(body.dataset.sessionIdleSeconds || 0) * 1000;
  if (!idleMs) { return; } // nobody signed in
  // The portal renews the timeout at most once in this many seconds, so the session may end
  // that much sooner than a full timeout after the last request.
  var renewMs = Number(body.dataset.sessionRenewSeconds || 0) * 1000;
  var warnMs = Math.min(2 * 60 * 1000, idleMs / 2);
  var signedOut = false;
  var timers = [];

  function element(id) { return document.getElementById(id); }

  function endSession() {
    signedOut = true;
    timers.forEach(clearTimeout);
    element("atb-idle-warning").hidden = true;
    var notice = element("atb-signed-out");
    notice.hidden = false;
    notice.scrollIntoView({ block: "nearest" });
  }

  function warn(endsAt) {
    var warning = element("atb-idle-warning");
    warning.querySelector("[data-signed-out-at]").textContent = endsAt.toLocaleTimeString("en-GB", {
      hour: "2-digit", minute: "2-digit", timeZone: "Europe/London"
    });
    warning.hidden = false;
  }

  function restart() {
    if (signedOut) { return; }
    timers.forEach(clearTimeout);
    element("atb-idle-warning").hidden = true;
    var leftMs = Math.max(idleMs - renewMs, warnMs);
    var endsAt = new Date(Date.now() + leftMs);
    timers = [
      setTimeout(function () { warn(endsAt); }, leftMs - warnMs),
      setTimeout(endSession, leftMs)
    ];
  }

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (signedOut) { event.preventDefault(); } // the poll stops: nothing to ask for
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 401) { endSession(); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { restart(); }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest("[data-stay-signed-in]")) { return; }
    fetch(body.dataset.staySignedInUrl, {
      method: "POST", credentials: "same-origin", redirect: "manual", // signed out: a redirect
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (response.ok) { restart(); } else { endSession(); }
    }, function () { /* offline: the warning stays, the person may try again */ });
  });
  restart();
}());
