/* The leads list's bulk bar (templates/leads/list/_bulk.html): tick rows or the whole page,
   "select all N matching this filter" (Gmail's banner), the chosen action's fields, and a
   confirmation before changing every lead that matches. No build step. */
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) return;
  var allInput = document.getElementById("bulk-all");
  var pageBox = document.getElementById("bulk-page");
  var controls = document.getElementById("bulk-controls");
  var count = document.getElementById("bulk-count");
  var offerAll = document.getElementById("bulk-offer-all");
  var allChosen = document.getElementById("bulk-all-chosen");
  var action = document.getElementById("bulk-action");
  var total = form.getAttribute("data-total");
  var morePages = form.getAttribute("data-more") === "1";

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll("input.bulk-pick"));
  }
  function ticked() {
    return picks().filter(function (box) { return box.checked; });
  }
  function allMatching() {
    return allInput.value === "1";
  }

  function update() {
    var boxes = picks();
    var n = ticked().length;
    var all = allMatching();
    controls.hidden = n === 0 && !all;
    if (all) {
      count.textContent = "All " + total + " leads matching this filter are selected.";
    } else if (n === 0) {
      count.textContent = "Tick leads to change many at once";
    } else {
      count.textContent = n + " selected";
    }
    if (pageBox) {
      pageBox.checked = n > 0 && n === boxes.length;
      pageBox.indeterminate = n > 0 && n < boxes.length;
    }
    offerAll.hidden = all || !morePages || n === 0 || n !== boxes.length;
    allChosen.hidden = !all;
  }

  function showFieldsFor(chosen) {
    var parts = form.querySelectorAll("[data-bulk-for]");
    Array.prototype.forEach.call(parts, function (part) {
      var wanted = part.getAttribute("data-bulk-for").split(" ");
      part.hidden = wanted.indexOf(chosen) === -1;
    });
  }

  if (pageBox) {
    pageBox.addEventListener("change", function () {
      picks().forEach(function (box) { box.checked = pageBox.checked; });
      if (!pageBox.checked) allInput.value = "";
      update();
    });
  }
  picks().forEach(function (box) {
    box.addEventListener("change", function () {
      if (!box.checked) allInput.value = "";
      update();
    });
  });
  document.getElementById("bulk-select-all").addEventListener("click", function () {
    allInput.value = "1";
    update();
  });
  document.getElementById("bulk-clear").addEventListener("click", function () {
    allInput.value = "";
    picks().forEach(function (box) { box.checked = false; });
    update();
  });
  function chosenText(name) {
    var field = form.querySelector("[name=" + name + "]");
    if (!field || !field.value) return "";
    return field.tagName === "SELECT" ? field.options[field.selectedIndex].text : field.value;
  }
  // "Reassign to Sam Chen", "Add a tag “VIP”", "Change stage to Lost": what the confirmation asks.
  function describe() {
    var text = action.options[action.selectedIndex].text;
    var detail = {
      reassign: [" to ", chosenText("owner")],
      stage: [" to ", chosenText("stage")],
      tag_add: [" ", "“" + chosenText("tag") + "”"],
      tag_remove: [" ", "“" + chosenText("tag") + "”"],
      track: [": ", chosenText("track")],
    }[action.value];
    return detail && detail[1] && detail[1] !== "“”" ? text + detail[0] + detail[1] : text;
  }
  action.addEventListener("change", function () { showFieldsFor(action.value); });
  form.addEventListener("submit", function (event) {
    if (!allMatching() || action.value === "export") return;
    if (!window.confirm(describe() + ": all " + total + " leads matching this filter?")) {
      event.preventDefault();
    }
  });

  showFieldsFor(action.value);
  update();
})();
