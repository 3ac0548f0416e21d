/* Kiosk mode for the hosted forms (?kiosk=1: an open-house tablet at the door). No build step,
   nothing inline: the page's CSP allows scripts from this origin only.

   - The thank-you page counts down, then opens an empty form for the next visitor: a fresh GET,
     so a fresh form token, with the page's query (the open house) kept.
   - The form empties itself when a visitor walks away from it half-filled, and fetches itself
     again now and then while untouched, so its token never expires on the stand.
   - A form the browser brings back from its history (the back button) is fetched again instead
     of showing what the last visitor typed. */
(function () {
  "use strict";

  function seconds(element, name, fallback) {
    var value = parseInt(element.getAttribute(name), 10);
    return value > 0 ? value : fallback;
  }

  function go(url) {
    window.location.replace(url);
  }

  var next = document.querySelector("[data-kiosk-next]");
  if (next) {
    var left = seconds(next, "data-kiosk-reset-seconds", 8);
    var countdown = document.querySelector("[data-kiosk-countdown]");
    var timer = window.setInterval(function () {
      left -= 1;
      if (countdown) countdown.textContent = String(Math.max(left, 0));
      if (left <= 0) {
        window.clearInterval(timer);
        go(next.href);
      }
    }, 1000);
  }

  var form = document.querySelector("form[data-kiosk-form]");
  if (!form) return;
  var fresh = form.getAttribute("data-kiosk-url");
  var idleMs = seconds(form, "data-kiosk-idle-seconds", 120) * 1000;
  var refreshMs = seconds(form, "data-kiosk-refresh-seconds", 3600) * 1000;
  var loadedAt = Date.now();
  var touchedAt = loadedAt;
  // A form shown again with its errors holds this visitor's answers already.
  var dirty = form.hasAttribute("data-kiosk-dirty");
  var sending = false;

  function touched() {
    dirty = true;
    touchedAt = Date.now();
  }
  ["input", "change", "keydown", "pointerdown", "focusin"].forEach(function (name) {
    form.addEventListener(name, touched);
  });
  form.addEventListener("submit", function () {
    sending = true;
  });

  window.setInterval(function () {
    if (sending) return;
    var now = Date.now();
    if (dirty ? now - touchedAt >= idleMs : now - loadedAt >= refreshMs) go(fresh);
  }, 1000);

  window.addEventListener("pageshow", function (event) {
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")
      : [];
    var fromHistory = entries.length > 0 && entries[0].type === "back_forward";
    if (event.persisted || fromHistory) go(fresh);
  });
})();
