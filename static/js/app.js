// App behaviour that HTML alone cannot express. Loaded on every page with
// `defer`; no inline scripts anywhere (the Content-Security-Policy forbids them).
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page's meta tag.
  document.addEventListener("htmx:config:request", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content && evt.detail && evt.detail.ctx) {
      evt.detail.ctx.request.headers["X-CSRF-Token"] = meta.content;
    }
  });

  // Screen readers: the polled status element is replaced on every swap, so its
  // own text is not reliably announced. Copy a changed headline into the live
  // region that stays in the page.
  var lastHeadline = null;
  function announce() {
    var region = document.getElementById("status-announcer");
    var headline = document.querySelector("#link-status [data-testid=status-headline]");
    if (!region || !headline) return;
    var text = headline.textContent.trim();
    if (lastHeadline !== null && text !== lastHeadline) region.textContent = text;
    lastHeadline = text;
  }
  document.addEventListener("htmx:after:swap", announce);
  document.addEventListener("DOMContentLoaded", announce);

  // Inside the Connect iframe after Flinks redirected the frame itself: move the
  // whole page to the link page. Only our own /links/ paths are followed.
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.body.getAttribute("data-breakout-target");
    if (!target || target.indexOf("/links/") !== 0) return;
    if (window.top !== window.self) {
      window.top.location.assign(target);
    } else {
      window.location.replace(target);
    }
  });

  // Flinks Connect's postMessage events. Only messages from the Connect frame,
  // from its origin, are read; REDIRECT moves this page to our redirect handler
  // (the same URL Connect navigates its frame to; the handler is idempotent and
  // the flag below keeps this page from following twice).
  document.addEventListener("DOMContentLoaded", function () {
    var frame = document.getElementById("flinks-connect");
    if (!frame) return;
    var connectOrigin = new URL(frame.getAttribute("src"), window.location.href).origin;
    var callbackPath = frame.getAttribute("data-callback-path");
    var followed = false;
    var log = document.getElementById("connect-events");
    window.addEventListener("message", function (evt) {
      if (evt.origin !== connectOrigin || evt.source !== frame.contentWindow) return;
      var data = evt.data;
      if (typeof data === "string") {
        try { data = JSON.parse(data); } catch (e) { return; }
      }
      if (!data || typeof data.step !== "string") return;
      if (log) log.textContent = "Flinks Connect: " + data.step;
      if (data.step !== "REDIRECT" || followed || typeof data.url !== "string") return;
      var target;
      try { target = new URL(data.url, window.location.href); } catch (e) { return; }
      if (target.origin !== window.location.origin || target.pathname !== callbackPath) return;
      followed = true;
      window.location.assign(target.href);
    });
  });
})();
