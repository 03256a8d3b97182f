/* The chat window as the admin's live preview (/admin/widget-preview/): a sample exchange and
   the settings form's unsaved values, posted by settings_preview.js from the same origin.
   Loaded only there, after frame.js, so visitors never download it. */
(function () {
  "use strict";
  var d = document, w = window, P = w.CloopPreview, cfg = P.cfg, S = cfg.strings, SET = cfg.settings;
  var $ = function (id) { return d.getElementById(id); };

  function preview(set) {
    P.colours(set);
    var bot = String(set.bot_name || SET.bot_name);
    d.querySelectorAll(".cw-title, title").forEach(function (t) { t.textContent = S.title_tpl.replace("{bot}", bot); });
    d.querySelector(".cw-greeting p").textContent = String(set.greeting || SET.greeting);
    var st = $("cw-starters");
    while (st.firstChild) st.removeChild(st.firstChild);
    (set.starter_questions || []).forEach(function (q) { st.appendChild(P.el("button", "cw-starter", String(q))).type = "button"; });
    var logo = $("cw-logo");
    if (!logo) { // the window has an <img> only with a logo: add one for the preview
      logo = P.el("img", "cw-logo"); logo.id = "cw-logo"; logo.alt = "";
      d.querySelector(".cw-head").insertBefore(logo, $("cw-title"));
    }
    logo.hidden = !set.logo_url;
    if (set.logo_url) logo.src = String(set.logo_url);
    d.body.className = "pos-" + (set.position === "left" ? "left" : "right");
  }
  w.addEventListener("message", function (e) {
    if (e.origin !== cfg.parent_origin || e.source !== w.parent) return;
    if ((e.data || {}).type === "cloop:preview") preview(e.data.settings || {});
  });
  // A picture, not a chat: links and the composer do nothing inside the admin page.
  d.addEventListener("click", function (e) { if (e.target.closest("a")) e.preventDefault(); }, true);
  $("cw-compose").addEventListener("submit", function (e) { e.stopImmediatePropagation(); e.preventDefault(); }, true);
  P.addVisitor(cfg.preview.question);
  P.addAssistant(cfg.preview.answer, cfg.preview.sources);
  $("cw-starters").hidden = false;
  d.documentElement.setAttribute("data-cloop-ready", "");
  w.parent.postMessage({ type: "cloop:preview-ready", logo_url: SET.logo_url }, cfg.parent_origin);
})();
