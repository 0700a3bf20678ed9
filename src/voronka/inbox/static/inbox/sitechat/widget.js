/* Voronka website chat. Embed: <script src="https://crm.example.com/widget/KEY.js" async></script>
   Plain JS, no framework. Every text from the server or the visitor is put in with textContent. */
(function () {
  "use strict";
  var me = document.currentScript;
  var m = me && me.src.match(/^(https?:\/\/[^/]+)\/widget\/([\w-]+)\.js/);
  if (!m || window.__voronkaChat) return;
  window.__voronkaChat = true;
  var api = m[1] + "/widget/" + m[2] + "/";
  var storeKey = "voronka-chat:" + m[2];
  var state = load();
  var cfg, S, ui = {}, last = 0, polling = false, seen = {};

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function uid() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function call(method, path, body) {
    var headers = { "X-Visitor-Token": state.token || "" };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit", mode: "cors",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        j.status = r.status;
        j.retry = +(r.headers.get("Retry-After") || 0);
        return j;
      });
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function icon(d) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), p = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    p.setAttribute("d", d);
    svg.appendChild(p);
    return svg;
  }

  call("GET", "config").then(function (c) {
    if (c.status !== 200) return;
    cfg = c; S = c.strings;
    build();
    if (state.token) start();
  });

  function build() {
    var host = el("div");
    host.id = "voronka-chat";
    var root = host.attachShadow({ mode: "open" });
    var css = el("link");
    css.rel = "stylesheet";
    css.href = cfg.styles;
    root.appendChild(css);
    var box = el("div", "vc " + (cfg.position === "left" ? "left" : "right"));
    box.hidden = true; // until its styles are in
    css.onload = css.onerror = function () { box.hidden = false; };
    box.style.setProperty("--vc", cfg.colour);
    box.lang = cfg.language;
    ui.launcher = el("button", "launcher");
    ui.launcher.type = "button";
    ui.launcher.setAttribute("aria-label", S.open);
    ui.launcher.appendChild(icon("M4 4h16v12H7l-3 3z"));
    ui.launcher.onclick = function () { toggle(true); };
    ui.panel = el("section", "panel");
    ui.panel.setAttribute("role", "dialog");
    ui.panel.setAttribute("aria-label", S.title);
    ui.panel.hidden = true;
    var head = el("header");
    head.appendChild(el("strong", null, S.title));
    var close = el("button", "close");
    close.type = "button";
    close.setAttribute("aria-label", S.close);
    close.appendChild(icon("M6 6l12 12M18 6L6 18"));
    close.onclick = function () { toggle(false); };
    head.appendChild(close);
    ui.log = el("div", "log");
    ui.log.setAttribute("aria-live", "polite");
    ui.panel.appendChild(head);
    ui.panel.appendChild(ui.log);
    ui.panel.appendChild(cfg.online ? chatPart() : offlinePart());
    box.appendChild(ui.panel);
    box.appendChild(ui.launcher);
    root.appendChild(box);
    document.body.appendChild(host);
  }

  function chatPart() {
    var part = el("div", "foot");
    ui.log.appendChild(el("p", "msg manager", S.greeting));
    var form = el("form", "compose");
    ui.text = el("textarea");
    ui.text.rows = 2;
    ui.text.maxLength = cfg.max_chars;
    ui.text.placeholder = S.placeholder;
    ui.text.setAttribute("aria-label", S.placeholder);
    ui.text.onkeydown = function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); }
    };
    var btn = el("button", "send");
    btn.type = "submit";
    btn.setAttribute("aria-label", S.send);
    btn.appendChild(icon("M3 20l18-8L3 4v6l12 2-12 2z"));
    form.appendChild(ui.text);
    form.appendChild(btn);
    form.onsubmit = function (e) { e.preventDefault(); send(); };
    var more = el("button", "link", S.leave_contact);
    more.type = "button";
    var details = detailsForm(false, function (thanks) {
      part.removeChild(more);
      part.removeChild(details);
      ui.log.appendChild(thanks);
      scroll();
    });
    details.hidden = true;
    more.onclick = function () { details.hidden = !details.hidden; };
    part.appendChild(form);
    part.appendChild(more);
    part.appendChild(details);
    return part;
  }

  function offlinePart() {
    ui.log.appendChild(el("p", "msg manager", S.offline_text));
    var part = el("div", "foot");
    part.appendChild(el("strong", "offline", S.offline_title));
    var form = detailsForm(true, function (thanks) { form.replaceWith(thanks); });
    part.appendChild(form);
    return part;
  }

  function field(form, name, type, label) {
    var f = type === "textarea" ? el("textarea") : el("input");
    if (type !== "textarea") f.type = type;
    f.name = name;
    f.placeholder = label;
    f.setAttribute("aria-label", label);
    form.appendChild(f);
    return f;
  }

  function detailsForm(offline, done) {
    var form = el("form", "details");
    form.noValidate = true; // the server says what is wrong, in the widget's language
    if (!offline) form.appendChild(el("p", "hint", S.contact_hint));
    field(form, "name", "text", S.name).autocomplete = "name";
    field(form, "phone", "tel", S.phone).autocomplete = "tel";
    field(form, "email", "email", S.email).autocomplete = "email";
    if (offline) field(form, "text", "textarea", S.message).maxLength = cfg.max_chars;
    var err = el("p", "error");
    var ok = el("button", "primary", offline ? S.submit : S.save);
    ok.type = "submit";
    form.appendChild(err);
    form.appendChild(ok);
    form.onsubmit = function (e) {
      e.preventDefault();
      var body = { id: uid() };
      ["name", "phone", "email", "text"].forEach(function (n) {
        if (form.elements[n]) body[n] = form.elements[n].value;
      });
      ok.disabled = true;
      ready().then(function () {
        return call("POST", offline ? "offline" : "contact", body);
      }).then(function (r) {
        ok.disabled = false;
        if (r.status >= 300) {
          var f = r.fields || {};
          err.textContent = f.phone || f.email || f.text || r.reason || S.failed;
          return;
        }
        done(el("p", "msg manager", offline ? S.offline_sent : S.contact_saved));
      }, function () { ok.disabled = false; err.textContent = S.failed; });
    };
    return form;
  }

  function toggle(open) {
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.classList.remove("unread");
    if (open) {
      if (ui.text) ui.text.focus();
      scroll();
    }
  }

  function scroll() { ui.log.scrollTop = ui.log.scrollHeight; }

  function show(msg) {
    if (msg.id && seen[msg.id]) return;
    if (msg.id) { seen[msg.id] = 1; last = Math.max(last, msg.id); }
    var p = el("p", "msg " + (msg.from === "visitor" ? "visitor" : "manager"));
    if (msg.from !== "visitor" && msg.name) p.appendChild(el("b", null, msg.name));
    p.appendChild(document.createTextNode(msg.text));
    ui.log.appendChild(p);
    if (ui.panel.hidden && msg.from !== "visitor") ui.launcher.classList.add("unread");
    scroll();
    return p;
  }

  var starting;
  function ready() { return state.token ? Promise.resolve() : start(); }
  function start() {
    if (starting) return starting;
    starting = call("POST", "session", {}).then(function (r) {
      starting = null;
      if (r.status !== 200) {
        if (r.status === 401 || r.status === 400) { state = {}; save(); }
        throw new Error(r.reason || "session");
      }
      state.token = r.token;
      save();
      (r.messages || []).forEach(show);
      if (last) poll();
    });
    return starting;
  }

  function send() {
    var text = ui.text.value.trim();
    if (!text) return;
    ui.text.value = "";
    var mine = show({ from: "visitor", text: text });
    mine.classList.add("pending");
    var body = { id: uid(), text: text };
    ready().then(function () { return call("POST", "messages", body); }).then(function (r) {
      mine.classList.remove("pending");
      if (r.status >= 300) {
        if (r.status === 401) { state = {}; save(); }
        mine.classList.add("failed");
        mine.appendChild(el("small", null, r.reason || S.failed));
        return;
      }
      poll();
    }, function () {
      mine.classList.remove("pending");
      mine.classList.add("failed");
      mine.appendChild(el("small", null, S.failed));
    });
  }

  function poll() {
    if (polling || !state.token) return;
    polling = true;
    call("GET", "poll?after=" + last).then(function (r) {
      polling = false;
      if (r.status === 401) { state = {}; save(); return; }
      (r.messages || []).forEach(function (msg) {
        // The visitor's own messages are on the screen already, sent from here.
        if (msg.from === "visitor") { seen[msg.id] = 1; last = Math.max(last, msg.id); } else show(msg);
      });
      var wait = r.status === 200 ? r.next_poll_ms || 0 : Math.max(r.retry * 1000, 5000);
      setTimeout(poll, wait);
    }, function () {
      polling = false;
      setTimeout(poll, 10000);
    });
  }
})();
