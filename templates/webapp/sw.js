// RealtyCRM's service worker (served at /sw.js by realtycrm.views.service_worker, scope "/").
// It shows the urgent alerts the server pushes (alerts/push.py, payload built by
// alerts.messages.alert_push) and handles taps on them. It caches nothing: there is no fetch
// handler, so every page, with its lead data, comes from the server as before.
"use strict";

const CSRF_URL = "{% url 'alerts:push-csrf' %}";
const SUBSCRIBE_URL = "{% url 'alerts:push-subscribe' %}";
const INBOX_URL = "{% url 'alerts:inbox' %}";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// A push: one notification per alert (its tag), with the alert's Claim / Call buttons.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: "New alert", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(showAlert(data));
});

function showAlert(data) {
  const actions = Array.isArray(data.actions) ? data.actions : [];
  return self.registration.showNotification(data.title || "New alert", {
    body: data.body || "",
    tag: data.tag || "",
    renotify: Boolean(data.tag && data.renotify),
    requireInteraction: true,
    icon: data.icon,
    badge: data.badge,
    timestamp: data.timestamp,
    actions: actions.map((action) => ({ action: action.action, title: action.title })),
    data: {
      url: data.url || "/",
      openUrl: data.open_url || data.url || "/",
      actions: Object.fromEntries(actions.map((action) => [action.action, action.url])),
    },
  });
}

// A tap: the notification itself opens the lead through the alert's link (which acknowledges
// it); Claim posts the claim (or "I'm on it") and opens where that leads; Call opens the lead's
// call. The result page shows what happened ("Dana Whitfield is yours", "Someone else claimed").
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(notificationClicked(event.notification.data || {}, event.action));
});

async function notificationClicked(data, action) {
  const urls = data.actions || {};
  if (action === "claim" && urls.claim) return openPage(await claim(urls.claim));
  if (action === "call" && urls.call) return openPage(urls.call);
  return openPage(data.openUrl || data.url || "/");
}

// The claim's answer names the page to open (the lead, or the inbox when someone else was
// first); an alert already closed, or a signed-out browser, opens the inbox (or the sign-in).
async function claim(url) {
  try {
    const csrf = await csrfToken();
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, Accept: "application/json" },
    });
    const answer = await response.json();
    return answer.next || INBOX_URL;
  } catch (error) {
    return INBOX_URL;
  }
}

async function csrfToken() {
  const response = await fetch(CSRF_URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return (await response.json()).csrf_token; // signed out: the sign-in page, not JSON (throws)
}

async function openPage(url) {
  const target = new URL(url, self.location.origin).href;
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const page of pages) {
    if (new URL(page.url).origin !== self.location.origin) continue;
    let moved = null;
    try {
      moved = page.url === target ? page : await page.navigate(target);
    } catch (error) {
      continue; // not ours to steer (uncontrolled): try the next, or open a window
    }
    if (!moved) continue;
    try {
      return await moved.focus();
    } catch (error) {
      return moved; // focus needs the tap's permission; the page is there all the same
    }
  }
  return self.clients.openWindow(target);
}

// The push service renewed this browser's subscription (Firefox does): tell the server, so that
// alerts keep arriving without the agent doing anything.
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
});

async function resubscribe(oldSubscription, newSubscription) {
  let subscription = newSubscription;
  if (!subscription && oldSubscription) {
    subscription = await self.registration.pushManager.subscribe(oldSubscription.options);
  }
  if (!subscription) return;
  const csrf = await csrfToken();
  await fetch(SUBSCRIBE_URL, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify({ ...subscription.toJSON(), old_endpoint: oldSubscription ? oldSubscription.endpoint : "" }),
  });
}
