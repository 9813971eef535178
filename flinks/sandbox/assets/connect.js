// Flinks Connect look-alike: the behaviour the server-rendered pages cannot
// have on their own. Everything it needs is in data- attributes, so the
// pages work under a strict Content-Security-Policy (script-src 'self').
(function () {
  "use strict";

  var body = document.body;

  // Post an event to the host page the way Flinks Connect does: to
  // window.parent with target origin "*".
  function post(payload) {
    try {
      window.parent.postMessage(payload, "*");
    } catch (e) {
      // A detached or sandboxed frame: nothing to tell.
    }
  }

  // The server lists the events of this page load, in order.
  var events = [];
  try {
    events = JSON.parse(body.getAttribute("data-events") || "[]");
  } catch (e) {
    events = [];
  }
  events.forEach(post);

  // Colours from backgroundColor / foregroundColor1, set through the CSSOM
  // (allowed by the CSP, unlike style attributes). The server validated them.
  var bg = body.getAttribute("data-bg");
  var fg = body.getAttribute("data-fg");
  if (bg) { body.style.setProperty("--bg", bg); }
  if (fg) { body.style.setProperty("--accent", fg); }

  // The close "X" (closeEnable=true).
  var close = document.querySelector("[data-close]");
  if (close) {
    close.addEventListener("click", function () {
      post({ step: "COMPONENT_CLOSE_SESSION", institution: "FlinksCapital" });
    });
  }

  // Institution search (institutionFilterEnable=true).
  var filter = document.querySelector("[data-filter]");
  if (filter) {
    var list = document.getElementById(filter.getAttribute("data-filter"));
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(list.children, function (li) {
        var name = (li.getAttribute("data-name") || "").toLowerCase();
        li.hidden = q !== "" && name.indexOf(q) === -1;
      });
    });
  }

  // One submission per form: a double click must not post the credentials twice.
  Array.prototype.forEach.call(document.forms, function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
          b.disabled = true;
        });
      }, 0);
    });
  });

  // Errors are announced (role=alert) and focused so keyboard and screen
  // reader users land on them.
  var alert = document.querySelector("[data-focus]");
  if (alert) {
    alert.focus();
  }
  // Each step is a new page: when the person is working in the frame (it has
  // the focus), focus its first field, or its heading, rather than leaving it
  // on the page's body (where a keyboard or a screen reader starts over). A
  // frame that was never used does not take the focus from the host page.
  if (document.hasFocus() && (!document.activeElement || document.activeElement === body)) {
    var target = document.querySelector("[autofocus]") || document.querySelector("h1");
    if (target) {
      if (!target.matches("input, button, select, textarea, a[href]")) { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  }

  // Success without innerRedirect: navigate the top window. Browsers refuse
  // this from a sandboxed iframe without allow-top-navigation; the visible
  // "Continue" link (target=_top) is the fallback.
  var url = body.getAttribute("data-redirect-url");
  if (url && body.getAttribute("data-redirect-mode") === "top") {
    try {
      window.top.location.href = url;
    } catch (e) {
      var link = document.getElementById("continue");
      if (link) { link.focus(); }
    }
  }
})();
