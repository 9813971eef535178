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
    // replace, not assign: Back from the link page must not land on the
    // landing page's entry that still holds the finished Connect frame.
    if (window.top !== window.self) {
      window.top.location.replace(target);
    } else {
      window.location.replace(target);
    }
  });

  // Flinks Connect's postMessage events. Only messages from the Connect frame,
  // from its origin, are read:
  //  - known progress steps are put in words under the frame (never the raw
  //    step name);
  //  - REDIRECT moves this page to our redirect handler (the same URL Connect
  //    navigates its frame to; the handler is idempotent and the flag below
  //    keeps this page from following twice);
  //  - refused consent, a closed window and the bank's retry cap show a plain
  //    state with a way to start again;
  //  - the authorize token is replaced before it expires (when the frame sits
  //    unused) and on TOKEN_INVALID, by reloading the frame with a fresh URL
  //    from the server.
  var engagingSteps = {
    COMPONENT_LOAD_CREDENTIAL: true, COMPONENT_LOAD_CREDENTIAL_RETRY: true, SUBMIT_CREDENTIAL: true,
    COMPONENT_LOAD_MFA: true, COMPONENT_LOAD_MFA_RETRY: true, SUBMIT_MFA: true,
    COMPONENT_LOAD_ACCOUNT_SELECTION: true, ACCOUNT_SELECTED: true
  };
  var endStates = {
    COMPONENT_DENY_CONSENT: "denied", COMPONENT_DENY_TERMS: "denied",
    COMPONENT_CLOSE_SESSION: "closed", MAXIMUM_RETRY_REACHED: "maxretry"
  };
  // Run as soon as this deferred script does (the page is parsed by then),
  // not at DOMContentLoaded: Connect's first events may come before it.
  function initConnect() {
    var frame = document.getElementById("flinks-connect");
    if (!frame) return;
    var connectOrigin = new URL(frame.getAttribute("src"), window.location.href).origin;
    var callbackPath = frame.getAttribute("data-callback-path");
    var followed = false;
    var log = document.getElementById("connect-events");
    var panel = document.getElementById("connect-state");
    var words = {};
    document.querySelectorAll("#connect-step-words [data-step]").forEach(function (li) {
      words[li.getAttribute("data-step")] = li.textContent;
    });
    // Once the person is signing in, the frame is never reloaded under them.
    var engaged = false;
    var retriedToken = false;
    var timer = null;

    function showState(name) {
      if (!panel) return;
      var shown = null;
      panel.querySelectorAll("[data-connect-state]").forEach(function (el) {
        el.hidden = el.getAttribute("data-connect-state") !== name;
        if (!el.hidden) shown = el;
      });
      panel.hidden = !shown;
      // A closed window or the retry cap leave nothing to do in the frame.
      frame.hidden = name === "closed" || name === "maxretry";
      if (log) log.textContent = "";
      var heading = shown && shown.querySelector("h3");
      if (heading) heading.focus();
    }
    function hideState() {
      if (panel) panel.hidden = true;
      frame.hidden = false;
    }
    function schedule() {
      clearTimeout(timer);
      var ms = parseInt(frame.getAttribute("data-refresh-after-ms"), 10);
      if (ms > 0) {
        timer = setTimeout(function () { if (!engaged) reloadFrame().catch(schedule); }, ms);
      }
    }
    function reloadFrame() {
      return fetch(frame.getAttribute("data-frame-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : Promise.reject(new Error("HTTP " + resp.status)); })
        .then(function (body) {
          var next = new URL(body.url, window.location.href);
          if (next.origin !== connectOrigin) throw new Error("unexpected Connect origin");
          engaged = false;
          frame.src = next.href;
          frame.setAttribute("data-reloads", String(parseInt(frame.getAttribute("data-reloads") || "0", 10) + 1));
          hideState();
          schedule();
        });
    }
    if (panel) {
      panel.addEventListener("click", function (evt) {
        if (!evt.target.closest("[data-connect-restart]")) return;
        reloadFrame().catch(function () { window.location.reload(); });
        frame.focus();
      });
    }
    schedule();

    window.addEventListener("message", function (evt) {
      if (evt.origin !== connectOrigin || evt.source !== frame.contentWindow) return;
      var data = evt.data;
      if (typeof data === "string") {
        try { data = JSON.parse(data); } catch (e) { return; }
      }
      if (!data || typeof data.step !== "string") return;
      var step = data.step;
      if (engagingSteps[step]) engaged = true;
      if (log && Object.prototype.hasOwnProperty.call(words, step)) log.textContent = words[step];
      if (step === "COMPONENT_ACCEPT_CONSENT" || step === "APP_MOUNTED") hideState();
      if (endStates[step]) {
        showState(endStates[step]);
        return;
      }
      if (step === "TOKEN_INVALID") {
        // Once on its own; if the new token fails too, say so.
        if (!retriedToken) {
          retriedToken = true;
          reloadFrame().catch(function () { showState("expired"); });
        } else {
          showState("expired");
        }
        return;
      }
      if (step !== "REDIRECT" || followed || typeof data.url !== "string") return;
      var target;
      try { target = new URL(data.url, window.location.href); } catch (e) { return; }
      if (target.origin !== window.location.origin || target.pathname !== callbackPath) return;
      followed = true;
      window.location.replace(target.href); // see the breakout above: no history entry for a used frame
    });
  }
  // Back (or Forward) onto the landing page would bring its Connect frame
  // back as the browser's history left it: a finished session, or a sign-in
  // form the browser asks to post again. Load the page afresh instead, with
  // a new frame and a new authorize token.
  function freshOnHistory(persisted) {
    if (!document.getElementById("flinks-connect")) return;
    var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (persisted || (nav && nav.type === "back_forward")) window.location.replace(window.location.href);
  }
  // As soon as this deferred script runs, and when the page comes back from
  // the back-forward cache (pageshow with persisted).
  freshOnHistory(false);
  window.addEventListener("pageshow", function (evt) { if (evt.persisted) freshOnHistory(true); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initConnect);
  } else {
    initConnect();
  }

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

// The Details panel of a link page (views/timeline.templ). The status poll only
// ever replaces the list's last item, so an opened panel or response body stays
// open without help from here. Each Flinks response body has a Copy button
// naming its <pre> in data-copy-from, with localized feedback in data-copied /
// data-copy-failed; when the clipboard refuses, the text is selected for the
// keyboard's copy.
(function () {
  "use strict";

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

// Times: the server writes them in UTC (it does not know the viewer's zone).
// Each <time data-local> is shown here in the viewer's own zone: "datetime"
// as a date and time with the zone's name, "clock" as the time of day to the
// millisecond (the timeline), "time" as the time of day with the zone (the
// next call to Flinks), "title" only in the tooltip (the text is
// relative: "5 min ago"). Without JavaScript the UTC times stay, saying so.
(function () {
  "use strict";
  var formats = {
    datetime: {year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"},
    clock: {hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hourCycle: "h23"},
    time: {hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short"},
  };
  var full = {dateStyle: "full", timeStyle: "full"}; // names the zone in words
  function localTimes() {
    var lang = document.documentElement.lang || "en";
    document.querySelectorAll("time[data-local]:not([data-localized])").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!el.getAttribute("datetime") || isNaN(d.getTime())) return;
      var kind = el.getAttribute("data-local");
      try {
        if (formats[kind]) el.textContent = new Intl.DateTimeFormat(lang, formats[kind]).format(d);
        el.title = (el.getAttribute("data-title-prefix") ? el.getAttribute("data-title-prefix") + " " : "") +
          new Intl.DateTimeFormat(lang, full).format(d);
        el.setAttribute("data-localized", "");
      } catch (e) { /* an old browser: the UTC text stays */ }
    });
    document.querySelectorAll("[data-local-zone]").forEach(function (el) {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      var text = el.getAttribute("data-local-zone").replace("{zone}", zone);
      // Only when it changes: this runs on every mutation, its own included.
      if (zone && el.textContent !== text) el.textContent = text;
    });
  }
  // Swaps (the status, the timeline's tail and its out-of-band poll groups)
  // bring new times: a mutation observer sees them all, whatever swapped them.
  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; localTimes(); });
    }).observe(document.body, {childList: true, subtree: true});
  });
})();

// Focus across htmx swaps: the polled status element (and a list row) is
// replaced whole, which would drop the focus to the page's body. The focused
// control is found again in the new content (by id or data-testid); when it
// is gone (the Stop button once the fetch ended), the new headline takes the
// focus, so a keyboard or screen-reader user stays where they were.
(function () {
  "use strict";
  // By swapped element id: the status and the timeline's tail swap in
  // overlapping turns.
  var pending = {};
  function keyOf(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    var tid = el.getAttribute("data-testid");
    return tid ? "[data-testid=\"" + CSS.escape(tid) + "\"]" : null;
  }
  document.addEventListener("htmx:before:swap", function (evt) {
    var target = evt.target, active = document.activeElement;
    if (!target || !target.id) return;
    delete pending[target.id];
    if (!active || active === document.body || !target.contains(active)) return;
    pending[target.id] = {key: keyOf(active), at: Date.now()};
  });
  // Restores the focus into the element swapped in under id. Run from
  // after:swap and, since htmx may dispatch that event on the element it
  // replaced (detached: the event reaches nobody), from a mutation observer.
  function restore(id) {
    var p = pending[id];
    delete pending[id];
    // Only right after the swap: focus the person moved later is theirs.
    if (!p || Date.now() - p.at > 5000) return;
    var key = p.key;
    if (document.activeElement && document.activeElement !== document.body) return;
    var root = document.getElementById(id);
    if (!root) return;
    var el = key ? root.querySelector(key) : null;
    if (!el || el.disabled) {
      el = root.querySelector("[data-testid=status-headline]") || root.querySelector("a, button:not([disabled])");
      if (el && el.matches("h1, h2, h3, p")) el.setAttribute("tabindex", "-1");
    }
    if (el) el.focus({preventScroll: true});
  }
  document.addEventListener("htmx:after:swap", function (evt) {
    var id = evt.target && evt.target.id;
    if (id && id in pending) restore(id);
  });
  document.addEventListener("DOMContentLoaded", function () {
    new MutationObserver(function () {
      Object.keys(pending).forEach(function (id) {
        var el = document.getElementById(id);
        // Swapped: the element under id is a new one, or focus fell to the body.
        if (el && (!document.activeElement || document.activeElement === document.body)) restore(id);
      });
    }).observe(document.body, {childList: true, subtree: true});
  });
})();

// A running fetch's elapsed time counts on between two answers of the status
// long poll (the server redraws it only when the link changes): from the
// milliseconds the answer carried, on this page's own clock, so the two
// machines' clocks need not agree. Written as the server writes durations.
(function () {
  "use strict";
  var seen = new WeakMap();
  function format(ms) {
    var s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    s = s % 60;
    if (h > 0) return m === 0 ? h + " h" : h + " h " + m + " min";
    if (m > 0) return s === 0 ? m + " min" : m + " min " + s + " s";
    return s + " s";
  }
  setInterval(function () {
    document.querySelectorAll("time[data-elapsed-ms]").forEach(function (el) {
      var now = performance.now();
      if (!seen.has(el)) seen.set(el, now);
      var text = format(Number(el.getAttribute("data-elapsed-ms")) + now - seen.get(el));
      if (el.textContent !== text) el.textContent = text;
    });
  }, 1000);
})();
