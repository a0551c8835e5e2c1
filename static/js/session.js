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

  // Every tab of the portal shares the time of the last request that renewed the session,
  // so a tab left open while the person works in another is not told it is signed out.
  var KEY = "atb-session-activity";
  var from = 0;

  function lastActivity() {
    try { return Number(window.localStorage.getItem(KEY) || 0); } catch (e) { return 0; }
  }

  function endSession(certain) {
    if (!certain && lastActivity() > from) { schedule(lastActivity()); return; } // busy elsewhere
    signedOut = true;
    timers.forEach(clearTimeout);
    element("atb-idle-warning").hidden = true;
    var notice = element("atb-signed-out");
    notice.hidden = false;
    notice.scrollIntoView({ block: "nearest" });
  }

  function warn(endsAt) {
    if (lastActivity() > from) { schedule(lastActivity()); return; }
    var warning = element("atb-idle-warning");
    warning.querySelector("[data-signed-out-at]").textContent = endsAt.toLocaleTimeString("en-GB", {
      hour: "2-digit", minute: "2-digit", timeZone: "Europe/London"
    });
    warning.hidden = false;
  }

  function schedule(since) {
    if (signedOut) { return; }
    from = since;
    timers.forEach(clearTimeout);
    element("atb-idle-warning").hidden = true;
    var leftMs = Math.max(idleMs - renewMs, warnMs) - (Date.now() - since);
    var endsAt = new Date(Date.now() + leftMs);
    timers = [
      setTimeout(function () { warn(endsAt); }, Math.max(leftMs - warnMs, 0)),
      setTimeout(function () { endSession(false); }, Math.max(leftMs, 0))
    ];
  }

  function restart() {
    var now = Date.now();
    try { window.localStorage.setItem(KEY, String(now)); } catch (e) { /* private mode: this tab alone */ }
    schedule(now);
  }

  window.addEventListener("storage", function (event) {
    if (event.key === KEY && event.newValue) { schedule(Number(event.newValue)); }
  });

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (signedOut) { event.preventDefault(); } // the poll stops: nothing to ask for
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 401) { endSession(true); }
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
      if (response.ok) { restart(); } else { endSession(true); }
    }, function () { /* offline: the warning stays, the person may try again */ });
  });
  restart();
}());
