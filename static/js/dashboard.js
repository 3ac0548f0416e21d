/* RealtyCRM dashboard: htmx settings and small conveniences. No build step. */
(function () {
  "use strict";
  // A 422 carries the form with its message: swap it in like a success. Other errors are not
  // swapped (the page stays as it was) and a short notice says what happened.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
  function notify(text) {
    var box = document.getElementById("dashboard-notice");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 422) {
      notify(event.detail.xhr.responseText || "Please check what you entered.");
    } else if (status === 404) {
      notify("That lead is not yours or no longer exists.");
    } else if (status === 403) {
      notify("You are not allowed to do that.");
    } else {
      notify("Something went wrong (" + status + "). Please try again.");
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    notify("No connection. Your change was not saved; please try again.");
  });
})();
