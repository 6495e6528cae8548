// A failed htmx request (the session ended, the form expired, Herald is away) is said in
// the page's alert line, so a click never goes unanswered; the next success clears it.
(function () {
  "use strict";
  function line() { return document.getElementById("htmx-alert"); }
  function say(text) {
    var alert = line();
    if (alert) { alert.textContent = text; alert.hidden = false; }
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 401 || status === 403) {
      say("Your session has ended or this page is out of date: reload the page (you may need to sign in again).");
    } else if (status === 404) {
      say("That is no longer there: reload the page.");
    } else {
      say("Herald could not do that (HTTP " + status + "). Try again in a moment.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    say("Herald cannot be reached. Check that it is running; this page retries by itself.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var alert = line();
    if (event.detail.successful && alert && !alert.hidden) {
      alert.hidden = true;
      alert.textContent = "";
    }
  });
})();
