/* Cloop loader: docs/widget.md */
(function (w, d) {
  if (w.Cloop) return;
  var s = d.currentScript || d.querySelector("script[data-site]"), site = s && s.getAttribute("data-site");
  if (!site || !/^[a-z0-9-]{3,40}$/.test(site)) return;
  var e = encodeURIComponent, L = location, base = new URL(s.src, L.href).origin, KEY = "cloop_visitor_" + site, c = w.crypto,
    btn, f, on = 0, rdy, mem, cfg = { color: "#1f5fbf", text: "#fff", position: "right", label: "Chat", close: "Close chat" },
    SVG = '<svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true"><path ',
    ICON = [SVG + 'fill="currentColor" d="M4 3h16a2 2 0 012 2v11a2 2 0 01-2 2H9l-5 4v-4a2 2 0 01-2-2V5a2 2 0 012-2z"/></svg>',
      SVG + 'stroke="currentColor" stroke-width="2.5" d="M6 6l12 12M18 6 6 18"/></svg>'];

  function uuid() {
    if (c.randomUUID) return c.randomUUID();
    var b = c.getRandomValues(new Uint8Array(16)), h = "", i;
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) h += (i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "") + (b[i] + 256).toString(16).slice(1);
    return h;
  }
  function visitor() {
    try {
      var v = localStorage.getItem(KEY);
      if (!/^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/.test(v)) localStorage.setItem(KEY, (v = uuid()));
      return v;
    } catch (e) { return mem || (mem = uuid()); }
  }
  function css(el, o) { for (var k in o) el.style.setProperty(k, o[k], "important"); }
  function place() {
    if (!f) return;
    var full = w.innerWidth < 480, o = { position: "fixed", border: "0", "z-index": "2147483647", display: on ? "block" : "none",
      top: full ? "0" : "auto", bottom: full ? "0" : "88px", left: "auto", right: "auto", width: full ? "100%" : "380px",
      height: full ? "100%" : "min(600px, calc(100% - 108px))", "border-radius": full ? "0" : "12px", "box-shadow": "0 8px 32px #0004" };
    o[cfg.position == "left" ? "left" : "right"] = full ? "0" : "20px";
    css(f, o);
  }
  function post(m) { rdy && f.contentWindow.postMessage(m, base); }
  function state() {
    var l = on ? cfg.close : cfg.label;
    btn.innerHTML = ICON[on]; btn.title = l;
    btn.setAttribute("aria-label", l); btn.setAttribute("aria-expanded", !!on);
  }
  function open() {
    if (!btn) return;
    if (!f) {
      f = d.createElement("iframe");
      f.dataset.cloop = "frame";
      f.id = "cloop-frame"; f.title = cfg.title || cfg.label;
      f.src = base + "/widget/frame/" + site + "/?o=" + e(L.origin);
      d.body.appendChild(f);
    }
    on = 1; place(); state();
    if (w.innerWidth < 480) css(btn, { display: "none" });
    post({ type: "cloop:open" }); f.focus();
  }
  function close() {
    if (!on) return;
    on = 0; place(); state();
    css(btn, { display: "flex" }); btn.focus();
  }
  w.addEventListener("message", function (e) {
    if (!f || e.origin !== base || e.source !== f.contentWindow) return; // only our window
    var t = (e.data || {}).type;
    if (t == "cloop:ready") rdy = 1, post({ type: "cloop:init", visitor_id: visitor(), page_url: L.origin + L.pathname, open: on });
    else if (t == "cloop:close") close();
    else if (t == "cloop:forget") { try { localStorage.removeItem(KEY); } catch (x) {} mem = 0; }
  });
  w.addEventListener("resize", place);
  function start(r) {
    for (var k in r) cfg[k] = r[k];
    btn = d.createElement("button");
    btn.type = "button";
    btn.dataset.cloop = "launcher";
    btn.setAttribute("aria-controls", "cloop-frame");
    state();
    var o = { position: "fixed", bottom: "20px", left: "auto", right: "auto", width: "56px", height: "56px", padding: "0", margin: "0",
      "border-radius": "50%", border: "2px solid " + cfg.text, background: cfg.color, color: cfg.text, cursor: "pointer", display: "flex",
      "align-items": "center", "justify-content": "center", "z-index": "2147483646", "box-shadow": "0 4px 16px #0005" };
    o[cfg.position == "left" ? "left" : "right"] = "20px";
    css(btn, o);
    btn.onclick = function () { on ? close() : open(); };
    d.body.appendChild(btn);
  }
  function go() {
    fetch(base + "/widget/config/" + site + "/?o=" + e(L.origin) + "&p=" + e(L.pathname), { credentials: "omit" })
      .then(function (r) { return r.status == 403 ? r.json().then(function (j) { console.warn("Cloop: " + j.message); }) : r.ok ? r.json() : {}; })
      .catch(function () { return {}; }).then(function (r) { r && start(r); });
  }
  w.Cloop = { open: open, close: close, toggle: function () { on ? close() : open(); } };
  d.body ? go() : d.addEventListener("DOMContentLoaded", go);
})(window, document);
