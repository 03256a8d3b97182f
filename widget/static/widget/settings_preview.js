/* Site settings: the chat window's live preview and the colour's WCAG AA check.
   The preview is the real window (/admin/widget-preview/, same origin) in preview mode; this
   script posts it the form's unsaved values. The contrast formula is widget/colors.py's
   (WCAG 2.x), repeated here so the warning follows the colour picker without a request. */
(function () {
  "use strict";
  var d = document, $ = function (id) { return d.getElementById(id); };
  var frame = $("cloop-preview-frame"), page = $("cloop-preview-page"), launcher = $("cloop-preview-launcher");
  var out = $("cloop-contrast"), color = $("id_widget_primary_color"), logo = $("id_widget_logo");
  if (!frame || !color) return;
  var blobUrl = "", savedLogo = "", ready = false;

  function lum(hex) {
    var c = [1, 3, 5].map(function (i) {
      var s = parseInt(hex.slice(i, i + 2), 16) / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function ratio(a, b) { var x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  function textColor(bg) { return ratio(bg, "#000000") > ratio(bg, "#ffffff") ? "#000000" : "#ffffff"; }
  function linkColor(hex) {
    for (var step = 0; step <= 20; step++) {
      var f = 1 - step * 0.05, shade = "#" + [1, 3, 5].map(function (i) {
        return ("0" + Math.round(parseInt(hex.slice(i, i + 2), 16) * f).toString(16)).slice(-2);
      }).join("");
      if (ratio(shade, "#ffffff") >= 4.5) return shade;
    }
    return "#000000";
  }
  function val(id) { var e = $(id); return e ? e.value : ""; }

  function update() {
    var hex = /^#[0-9a-fA-F]{6}$/.test(color.value) ? color.value.toLowerCase() : "#1f5fbf";
    var text = textColor(hex), link = linkColor(hex), onText = ratio(hex, text), onWhite = ratio(hex, "#ffffff");
    var warn = onText < 4.5 || onWhite < 4.5;
    out.className = "cloop-contrast " + (warn ? "warn" : "ok");
    out.textContent = onWhite < 4.5
      ? "Low contrast: " + hex + " on white is " + onWhite.toFixed(2) + ":1 (WCAG AA needs 4.5:1). Links and suggested questions use the darker shade " + link + "; header text is " + (text === "#000000" ? "black" : "white") + " (" + onText.toFixed(2) + ":1)."
      : "Contrast OK (WCAG AA): header text " + onText.toFixed(2) + ":1, links on white " + onWhite.toFixed(2) + ":1.";
    var position = val("id_widget_position") === "left" ? "left" : "right";
    page.classList.toggle("pos-left", position === "left");
    launcher.style.background = hex; launcher.style.color = text; launcher.style.borderColor = text;
    var remove = $("id_widget_logo_remove");
    if (!ready) return;
    frame.contentWindow.postMessage({ type: "cloop:preview", settings: {
      primary_color: hex, text_color: text, link_color: link, position: position,
      bot_name: val("id_widget_bot_name").trim(), greeting: val("id_widget_greeting").trim(),
      starter_questions: val("id_widget_starter_questions").split("\n").map(function (q) { return q.trim(); })
        .filter(Boolean).slice(0, 6),
      logo_url: blobUrl || (remove && remove.checked ? "" : savedLogo)
    } }, location.origin);
  }

  // The warning sits under the colour picker as well as under the preview.
  var row = color.closest(".form-row");
  if (row) row.appendChild(out);
  if (logo) logo.addEventListener("change", function () {
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = logo.files && logo.files[0] ? URL.createObjectURL(logo.files[0]) : "";
  });
  window.addEventListener("message", function (e) {
    if (e.origin !== location.origin || e.source !== frame.contentWindow) return;
    if ((e.data || {}).type === "cloop:preview-ready") {
      ready = true;
      savedLogo = String(e.data.logo_url || "");
      update();
    }
  });
  var form = color.form;
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
