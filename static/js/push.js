// The installable app and its notifications: registers the service worker (/sw.js, scope "/")
// on every signed-in page, and drives the "Notifications on this device" card
// (templates/alerts/_push_devices.html): enable, turn off, and what this browser can do.
(function () {
  "use strict";
  const script = document.currentScript;
  const workerUrl = script && script.dataset.serviceWorker;
  const card = document.querySelector("[data-push-device]");
  const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  const syncedKey = "realtycrm.push.synced";
  const dismissedKey = "realtycrm.push.dismissed";

  if (!("serviceWorker" in navigator) || !workerUrl) return;
  const registered = navigator.serviceWorker.register(workerUrl, { scope: "/" });
  registered.catch(() => {}); // no worker (a private window, say): the pages work as before

  // Signing out turns this browser's notifications off (a shared computer must not go on
  // showing this agent's hot leads to whoever comes next). The server forgets the subscriptions
  // this session saved whatever happens (alerts.push.push_forget_on_sign_out); here the browser
  // drops it too, when it can do so within a moment, and the form is sent either way.
  const signOut = document.querySelector("form[data-sign-out]");
  if (signOut && "PushManager" in window) {
    signOut.addEventListener("submit", (event) => {
      event.preventDefault();
      const unsubscribed = registered
        .then((registration) => registration.pushManager.getSubscription())
        .then((subscription) => subscription && subscription.unsubscribe());
      const aMoment = new Promise((resolve) => setTimeout(resolve, 1500));
      Promise.race([unsubscribed, aMoment]).catch(() => {}).finally(() => {
        sessionStorage.removeItem(syncedKey);
        signOut.submit(); // submit() sends the form without firing this handler again
      });
    });
  }
  if (!card) return;

  const status = card.querySelector("[data-push-status]");
  const enable = card.querySelector("[data-push-enable]");
  const disable = card.querySelector("[data-push-disable]");
  const compact = card.hasAttribute("data-push-compact");
  const dismiss = card.querySelector("[data-push-dismiss]");

  function csrfToken() {
    return document.querySelector("[name=csrfmiddlewaretoken]")?.value ||
      (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data),
    });
  }

  function show(message, { canEnable = false, canDisable = false, offer = false } = {}) {
    status.textContent = message;
    enable.hidden = !canEnable;
    disable.hidden = !canDisable;
    // Today offers it until it is on, or the agent said "Not now" on this device.
    if (compact) card.hidden = !offer || localStorage.getItem(dismissedKey) === "1";
  }

  function isAppleMobile() {
    return /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function installed() {
    return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  }

  function serverKey() {
    const base64 = card.dataset.vapidKey.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (character) => character.charCodeAt(0));
  }

  function sameKey(subscription) {
    const key = subscription.options && subscription.options.applicationServerKey;
    if (!key) return true;
    const mine = serverKey();
    const theirs = new Uint8Array(key);
    return theirs.length === mine.length && theirs.every((byte, index) => byte === mine[index]);
  }

  async function save(subscription) {
    const response = await post(card.dataset.subscribeUrl, subscription.toJSON());
    if (response.status !== 201) throw new Error("the server said " + response.status);
    sessionStorage.setItem(syncedKey, subscription.endpoint);
  }

  async function refresh() {
    if (!supported) {
      if (isAppleMobile() && !installed()) {
        show("On iPhone and iPad, notifications need the app on your Home Screen: tap Share, " +
          "then Add to Home Screen, and open it from there.", { offer: true });
      } else {
        show("This browser cannot show notifications.");
      }
      return;
    }
    if (Notification.permission === "denied") {
      show("Notifications are blocked for this site. Allow them in this browser's site settings, then reload.");
      return;
    }
    const registration = await registered;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription)) {
      await subscription.unsubscribe(); // made with keys the server no longer signs with
      subscription = null;
    }
    if (!subscription) {
      show("Hot-lead alerts do not reach this device yet.", { canEnable: true, offer: true });
      return;
    }
    if (sessionStorage.getItem(syncedKey) !== subscription.endpoint) {
      await save(subscription); // the server forgot it, or someone else signed in here
    }
    show("Notifications are on for this device.", { canDisable: true });
  }

  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        show("Notifications were not allowed, so this device gets texts only.", { canEnable: permission === "default" });
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: serverKey(),
      });
      await save(subscription);
      show("Notifications are on for this device.", { canDisable: true });
    } catch (error) {
      show("Could not turn notifications on: " + error.message, { canEnable: true, offer: true });
    } finally {
      enable.disabled = false;
    }
  });

  disable.addEventListener("click", async () => {
    disable.disabled = true;
    try {
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await post(card.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
        await subscription.unsubscribe();
      }
      sessionStorage.removeItem(syncedKey);
      show("Notifications are off for this device.", { canEnable: true, offer: true });
    } catch (error) {
      show("Could not turn notifications off: " + error.message, { canDisable: true });
    } finally {
      disable.disabled = false;
    }
  });

  if (dismiss) {
    dismiss.addEventListener("click", () => {
      localStorage.setItem(dismissedKey, "1");
      card.hidden = true;
    });
  }

  refresh().catch((error) => show("Notifications are not available here: " + error.message));
})();
