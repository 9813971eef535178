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
    // "Taking longer than usual" appears under an unchanged headline: say it too.
    var slow = document.querySelector("#link-status [data-testid=longer-than-usual-title]");
    if (slow) text += ". " + slow.textContent.trim();
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

  // One-click copy on the sandbox scenario card: buttons carry the value in
  // data-copy and their localized feedback in data-copied / data-copy-failed.
  // The Clipboard API needs a secure context (https or localhost); elsewhere
  // the older execCommand("copy") is tried.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[data-copy]");
    if (!button) return;
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    var status = document.getElementById("copy-status");
    function show(text, state) {
      button.textContent = text;
      button.setAttribute("data-copy-state", state);
      if (status) status.textContent = text + ": " + button.getAttribute("data-copy");
      clearTimeout(button._copyTimer);
      button._copyTimer = setTimeout(function () {
        button.textContent = label;
        button.removeAttribute("data-copy-state");
      }, 2000);
    }
    copyText(button.getAttribute("data-copy")).then(
      function () { show(button.getAttribute("data-copied"), "copied"); },
      function () { show(button.getAttribute("data-copy-failed"), "failed"); }
    );
  });
})();

// The Details panel of a link page (views/timeline.templ). Its poll only ever
// replaces the list's last item, so an opened panel or response body stays open
// without help from here. Two things are done here:
//  - each Flinks response body has a Copy button naming its <pre> in
//    data-copy-from, with localized feedback in data-copied / data-copy-failed;
//    when the clipboard refuses, the text is selected for the keyboard's copy;
//  - the timeline's end carries no hx-* attributes (its polling stops), but
//    "Refresh data" starts a new fetch without reloading the page: when the
//    status element polls again, the end resumes polling from where it was.
(function () {
  "use strict";

  // Only a swap made by the status element's own poll counts: the timeline's
  // poll can see the end before the status element does, and resuming then
  // would keep the ended timeline polling.
  function resumeTimeline(evt) {
    if (!evt || !evt.target || evt.target.id !== "link-status") return;
    var status = document.getElementById("link-status");
    var end = document.querySelector("#timeline-tail[data-resume-url]:not([hx-get])");
    if (!status || !end || !status.hasAttribute("hx-get") || !window.htmx) return;
    end.setAttribute("hx-get", end.getAttribute("data-resume-url"));
    end.setAttribute("hx-trigger", "every " + (end.getAttribute("data-poll-every") || "1s"));
    end.setAttribute("hx-swap", "outerHTML");
    window.htmx.process(end, true);
  }
  document.addEventListener("htmx:after:swap", resumeTimeline);

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function writeClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return Promise.reject(new Error("Clipboard API unavailable"));
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[data-copy-from]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    if (!source) return;
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    var status = document.getElementById("timeline-copy-status");
    function show(text, state) {
      button.textContent = state === "copied" ? text : label;
      button.setAttribute("data-copy-state", state);
      if (status) status.textContent = text;
      clearTimeout(button._copyTimer);
      button._copyTimer = setTimeout(function () {
        button.textContent = label;
        button.removeAttribute("data-copy-state");
      }, 2000);
    }
    writeClipboard(source.textContent).then(
      function () { show(button.getAttribute("data-copied"), "copied"); },
      function () {
        selectText(source);
        show(button.getAttribute("data-copy-failed"), "failed");
      }
    );
  });
})();
