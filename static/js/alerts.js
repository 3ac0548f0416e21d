// Live alerts in every open tab: polls the feed, keeps the navbar badge current, shows a toast
// (and a desktop notification where the agent allowed it) for each alert it has not shown yet.
// A toast the agent closed stays closed: in this tab, in their other tabs (localStorage, so the
// tab the alert text's link opens too) and after a reload. A toast whose alert was answered
// elsewhere (I'm on it on Today, a logged call) goes away on the next poll.
(function () {
  "use strict";
  const root = document.querySelector("[data-alerts-feed]");
  if (!root) return;
  const feedUrl = root.dataset.alertsFeed;
  const every = Number(root.dataset.alertsPoll || 5) * 1000;
  const badge = document.getElementById("alert-badge");
  const toasts = document.getElementById("alert-toasts");
  const seenKey = "realtycrm.alerts.seen";
  const seen = new Set(JSON.parse(sessionStorage.getItem(seenKey) || "[]"));
  const dismissedKey = "realtycrm.alerts.dismissed";

  function stored(storage, key) {
    try {
      return new Set(JSON.parse(storage.getItem(key) || "[]"));
    } catch (error) {
      return new Set();
    }
  }

  function dismiss(id) {
    const dismissed = stored(localStorage, dismissedKey);
    dismissed.add(id);
    localStorage.setItem(dismissedKey, JSON.stringify([...dismissed].slice(-200)));
  }

  function removeToasts(keep) {
    for (const box of toasts.querySelectorAll("[data-alert-id]")) {
      if (!keep(Number(box.dataset.alertId))) box.remove();
    }
  }

  // Closed in another tab: close it here too.
  window.addEventListener("storage", (event) => {
    if (event.key !== dismissedKey) return;
    const dismissed = stored(localStorage, dismissedKey);
    removeToasts((id) => !dismissed.has(id));
  });
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]")?.value ||
    (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";

  function text(tag, value, className) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  function postForm(url, label, className) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = url;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = csrf;
    form.append(token, text("button", label, className));
    return form;
  }

  function toast(alert) {
    const lead = alert.lead;
    const box = document.createElement("div");
    box.className = "toast show border-" + (alert.urgent ? "danger" : "secondary");
    box.setAttribute("role", "alert");
    box.dataset.alertId = alert.id;
    const head = document.createElement("div");
    head.className = "toast-header";
    head.append(text("strong", alert.reason, "me-auto"));
    const close = text("button", "", "btn-close");
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", () => {
      dismiss(alert.id);
      box.remove();
    });
    head.append(close);
    const body = document.createElement("div");
    body.className = "toast-body";
    body.append(text("div", lead.name, "fw-semibold"));
    body.append(text("div", [lead.source, lead.where, lead.timeline, lead.intent].filter(Boolean).join(" · "), "small"));
    const actions = document.createElement("div");
    actions.className = "d-flex gap-2 mt-2";
    if (lead.phone) {
      const call = text("a", "Call " + lead.phone_display, "btn btn-sm btn-outline-primary");
      call.href = "tel:" + lead.phone;
      actions.append(call);
    }
    if (alert.claim) {
      actions.append(postForm(alert.claim_url, "Claim", "btn btn-sm btn-primary"));
    } else {
      const open = text("a", "Open", "btn btn-sm btn-primary");
      open.href = alert.open_url;
      actions.append(open);
    }
    body.append(actions);
    box.append(head, body);
    toasts.prepend(box);
  }

  function notify(alert) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(alert.reason + ": " + alert.lead.name, {
      body: [alert.lead.source, alert.lead.where, alert.lead.timeline].filter(Boolean).join(" · "),
      tag: "alert-" + alert.id,
    });
    note.onclick = () => { window.focus(); window.location = alert.open_url; };
  }

  async function poll() {
    try {
      const response = await fetch(feedUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (badge) {
        badge.textContent = data.count;
        badge.classList.toggle("d-none", data.count === 0);
      }
      const dismissed = stored(localStorage, dismissedKey);
      if (data.alerts.length >= data.count) {
        const open = new Set(data.alerts.map((alert) => alert.id));
        removeToasts((id) => open.has(id) && !dismissed.has(id));
      }
      for (const alert of data.alerts.slice().reverse()) {
        if (seen.has(alert.id) || dismissed.has(alert.id)) continue;
        seen.add(alert.id);
        toast(alert);
        if (alert.urgent) notify(alert);
      }
      sessionStorage.setItem(seenKey, JSON.stringify([...seen].slice(-200)));
    } catch (error) {
      // Offline or signed out: try again on the next tick.
    }
  }

  const ask = document.getElementById("enable-notifications");
  if (ask && "Notification" in window && Notification.permission === "default") {
    ask.classList.remove("d-none");
    ask.addEventListener("click", () => Notification.requestPermission().then(() => ask.classList.add("d-none")));
  }
  poll();
  setInterval(poll, every);
})();
