/* Cloop chat window. Runs in an iframe on Cloop's origin under a strict CSP.
   Everything from the server, the model or crawled pages is rendered as text nodes; the only
   formatting is a small safe subset (paragraphs, lists, bold, links to the site's own pages).
   Stores nothing in the browser: the visitor id lives in the host page (the loader). */
(function () {
  "use strict";
  var d = document, w = window;
  var cfg = JSON.parse(d.getElementById("cloop-config").textContent);
  var S = cfg.strings, SET = cfg.settings, PARENT = cfg.parent_origin;
  var $ = function (id) { return d.getElementById(id); };
  var log = $("cw-log"), input = $("cw-input"), typing = $("cw-typing"), status = $("cw-status");
  var emailForm = $("cw-email"), confirmBox = $("cw-confirm"), menu = $("cw-menu"), menuBtn = $("cw-menu-btn");

  var ws = null, ready = false, visitorId = null, pageUrl = null, attempt = 0, timer = null;
  var queue = [];        // visitor messages not yet answered: {id, text, el}; sent one at a time
  var inflight = null;   // the queued message the server is answering now
  var stream = null;     // {el, body, text} of the answer being streamed
  var hasEmail = false, wantSummary = false, failed = null, drawPending = false, idle = false;

  function colours(set) {
    d.documentElement.style.setProperty("--cw-primary", set.primary_color);
    d.documentElement.style.setProperty("--cw-on-primary", set.text_color);
    d.documentElement.style.setProperty("--cw-link", set.link_color);
  }
  colours(SET);

  /* ---------- talking to the loader (exact origins both ways) ---------- */
  function toParent(msg) { w.parent.postMessage(msg, PARENT); }
  w.addEventListener("message", function (e) {
    if (e.origin !== PARENT || e.source !== w.parent) return;
    var m = e.data || {};
    if (cfg.preview) return; // frame_preview.js listens instead
    if (m.type === "cloop:init" && typeof m.visitor_id === "string") {
      var changed = m.visitor_id !== visitorId;
      visitorId = m.visitor_id; pageUrl = String(m.page_url || "");
      if (changed || !ws) connect(true);
      if (m.open) input.focus();
    } else if (m.type === "cloop:open") {
      wake();
      input.focus();
    }
  });

  /* ---------- connection with exponential backoff ---------- */
  function connect(now) {
    clearTimeout(timer);
    if (ws) { ws.onclose = null; try { ws.close(); } catch (x) {} ws = null; }
    ready = false;
    if (!visitorId) return;
    if (!now) { timer = setTimeout(function () { connect(true); }, backoff()); return; }
    var sock = ws = new WebSocket(cfg.ws_url);
    sock.onopen = function () { send({ type: "hello", visitor_id: visitorId, page_url: pageUrl }); };
    sock.onmessage = function (e) {
      var m; try { m = JSON.parse(e.data); } catch (x) { return; }
      if (m && typeof m.type === "string" && handlers[m.type]) handlers[m.type](m);
    };
    sock.onclose = function (e) {
      if (ws !== sock) return;
      var msg = inflight;
      ws = null; ready = false; inflight = null;
      if (stream) { stream.el.remove(); stream = null; }
      showTyping(false);
      if (e.code === 1009 && msg) { // too big to ever send: fail it instead of resending forever
        queue.splice(queue.indexOf(msg), 1); failed = null; showError(S.error, false);
      }
      if (e.code === 4000 && !queue.length) { idle = true; return; } // idle: wait for the visitor
      // 1013 "try again later": the service is up but cannot chat now (e.g. its database).
      setStatus(e.code === 1013 ? S.unavailable : S.offline);
      attempt++;
      timer = setTimeout(function () { connect(true); }, backoff());
    };
  }
  function wake() { if (idle && visitorId) { idle = false; attempt = 0; connect(true); } }
  function backoff() { return Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6))) * (0.75 + Math.random() / 2); }
  function send(obj) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; }
  w.addEventListener("online", function () { if (!ready) { attempt = 0; connect(true); } });
  w.addEventListener("offline", function () { if (ws) ws.close(); });

  function setStatus(text) { status.textContent = text || ""; status.className = "cw-status" + (text ? " on" : ""); }

  /* ---------- server frames ---------- */
  var handlers = {
    ready: function (m) {
      ready = true; attempt = 0; setStatus("");
      hasEmail = m.has_email === true;
      renderHistory(m.history || []);
      pump();
    },
    delta: function (m) {
      showTyping(false);
      if (!stream) stream = newAssistant();
      stream.text += String(m.text || "");
      if (!drawPending) { drawPending = true; w.requestAnimationFrame(drawStream); }
    },
    answer: function (m) {
      showTyping(false);
      if (!stream) stream = newAssistant();
      stream.text = String(m.text != null ? m.text : stream.text);
      stream.sources = m.sources;
      drawStream();
      stream.el.removeAttribute("aria-busy");
      addSources(stream.el, m.sources);
      addFeedback(stream.el, m.message_id, null);
      stream = null;
      done(inflight);
      if (m.ask_email && !hasEmail) showEmail();
      scroll(); // to the end of the answer, sources included (and above the e-mail form)
      pump();
    },
    feedback_saved: function (m) { setFeedback(m.message_id, m.value); },
    error: function (m) {
      var code = String(m.code || "");
      if (m.message_id != null && feedbackBars[m.message_id]) { // about a thumbs up/down
        setFeedback(m.message_id, feedbackBars[m.message_id].saved);
        return;
      }
      if (code === "email_required") { wantSummary = true; showEmail(); return; }
      if (code === "unavailable") { // the server closes with 1013 next; resend after reconnecting
        setStatus(S.unavailable);
        if (inflight) { queued(inflight.el, true); inflight = null; }
        if (stream) { stream.el.remove(); stream = null; }
        showTyping(false);
        return;
      }
      if (!emailForm.hidden && /email/.test(code)) { $("cw-email-error").textContent = m.message || S.email_invalid; return; }
      var msg = inflight;
      if (msg && (m.client_message_id == null || m.client_message_id === msg.id)) {
        showTyping(false);
        if (stream) { stream.el.remove(); stream = null; }
        inflight = null; queue.splice(queue.indexOf(msg), 1); failed = msg;
        showError(m.message || S.error, true);
        pump();
      } else showError(m.message || S.error, false);
    },
    email_saved: function () {
      hasEmail = true; emailForm.hidden = true;
      notice(S.email_saved);
      if (wantSummary) { wantSummary = false; send({ type: "summary" }); }
    },
    summary_sent: function () { notice(S.summary_sent); },
    forgotten: function () {
      toParent({ type: "cloop:forget" });
      if (ws) { ws.onclose = null; ws.close(); ws = null; }
      visitorId = null; ready = false; queue = []; inflight = null; hasEmail = false;
      clearLog(); emailForm.hidden = true; confirmBox.hidden = true;
      notice(S.forgotten);
      input.focus();
    }
  };

  /* ---------- queue: every message is sent once per connection, with its id ---------- */
  function pump() {
    if (!ready || inflight || !queue.length) return;
    inflight = queue[0];
    if (send({ type: "message", text: inflight.text, client_message_id: inflight.id })) {
      queued(inflight.el, false);
      showTyping(true);
    } else inflight = null;
  }
  function done(msg) {
    if (!msg) return;
    var i = queue.indexOf(msg); if (i >= 0) queue.splice(i, 1);
    inflight = null;
  }
  function ask(text) {
    text = String(text || "").trim();
    if (!text) return;
    clearError();
    $("cw-starters").hidden = true;
    var msg = { id: uid(), text: text };
    msg.el = addVisitor(text, msg.id);
    queued(msg.el, true);
    queue.push(msg);
    if (!visitorId) toParent({ type: "cloop:ready" }); // after "delete": ask the loader for a new id
    wake();
    pump();
  }
  // Waiting messages are outlined, and say so to screen readers.
  function queued(m, on) {
    var note = m.querySelector(".cw-q");
    m.classList.toggle("cw-queued", on);
    if (on && !note) m.appendChild(el("span", "cw-sr cw-q", " (" + S.queued + ")"));
    if (!on && note) note.remove();
  }
  function uid() {
    if (w.crypto.randomUUID) return w.crypto.randomUUID();
    var b = w.crypto.getRandomValues(new Uint8Array(16)), h = "", i;
    for (i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1);
    return h;
  }

  /* ---------- rendering (text nodes only) ---------- */
  function el(tag, cls, text) {
    var e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function clearLog() {
    feedbackBars = {};
    while (log.children.length > 1) log.removeChild(log.lastChild); // keep the greeting
  }
  function addVisitor(text, id) {
    var m = el("div", "cw-msg cw-visitor");
    m.setAttribute("data-cloop", "message"); m.setAttribute("data-role", "visitor");
    if (id) m.setAttribute("data-client-id", id);
    m.appendChild(el("span", "cw-sr", S.you + ": "));
    m.appendChild(el("p", null, text));
    log.appendChild(m); scroll();
    return m;
  }
  function newAssistant() {
    var m = el("div", "cw-msg cw-assistant");
    m.setAttribute("data-cloop", "message"); m.setAttribute("data-role", "assistant");
    m.setAttribute("aria-busy", "true");
    m.appendChild(el("span", "cw-sr", SET.bot_name + ": "));
    var body = el("div", "cw-body");
    m.appendChild(body); log.appendChild(m);
    return { el: m, body: body, text: "" };
  }
  function drawStream() {
    drawPending = false;
    if (!stream) return;
    var body = stream.body;
    while (body.firstChild) body.removeChild(body.firstChild);
    renderMarkdown(stream.text, body, stream.sources);
    scroll();
  }
  function addAssistant(text, sources, id, feedback) {
    var a = newAssistant(); a.text = text || "";
    renderMarkdown(a.text, a.body, sources);
    a.el.removeAttribute("aria-busy");
    addSources(a.el, sources);
    addFeedback(a.el, id, feedback);
    return a.el;
  }
  /* Thumbs up / down: real buttons (keyboard: Tab + Enter/Space) with aria-pressed; pressing
     the pressed one again clears it. Shown at once, confirmed (or undone) by the server. */
  var feedbackBars = {};
  function addFeedback(m, id, value) {
    if (typeof id !== "number") return; // objected visitors' answers are not stored
    var bar = el("div", "cw-feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", S.feedback);
    bar.setAttribute("data-cloop", "feedback");
    bar.saved = value === "up" || value === "down" ? value : null;
    [["up", S.helpful, "\uD83D\uDC4D"], ["down", S.not_helpful, "\uD83D\uDC4E"]].forEach(function (b) {
      var btn = el("button", "cw-fb", b[2]);
      btn.type = "button";
      btn.title = b[1];
      btn.setAttribute("aria-label", b[1]);
      btn.setAttribute("data-value", b[0]);
      btn.onclick = function () {
        var next = btn.getAttribute("aria-pressed") === "true" ? null : b[0];
        if (send({ type: "feedback", message_id: id, value: next })) paintFeedback(bar, next);
        else showError(S.error, false);
      };
      bar.appendChild(btn);
    });
    paintFeedback(bar, bar.saved);
    feedbackBars[id] = bar;
    m.appendChild(bar);
  }
  function paintFeedback(bar, value) {
    [].forEach.call(bar.querySelectorAll("button"), function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-value") === value));
    });
  }
  function setFeedback(id, value) {
    var bar = feedbackBars[id];
    if (!bar) return;
    bar.saved = value === "up" || value === "down" ? value : null;
    paintFeedback(bar, bar.saved);
  }
  function renderHistory(items) {
    clearLog();
    var seen = {};
    items.forEach(function (h) {
      if (h.role === "visitor") {
        addVisitor(h.text, h.client_message_id);
        if (h.client_message_id) seen[h.client_message_id] = 1;
      } else if (h.role === "assistant") addAssistant(h.text, h.sources, h.message_id, h.feedback);
    });
    // Messages still waiting: the server has them if history shows them answered; else resend.
    var answered = {};
    for (var i = 0; i < items.length; i++) {
      if (items[i].role === "visitor" && items[i].client_message_id && items[i + 1] && items[i + 1].role === "assistant") {
        answered[items[i].client_message_id] = 1;
      }
    }
    queue = queue.filter(function (q) { return !answered[q.id]; });
    queue.forEach(function (q) {
      if (seen[q.id]) q.el = log.querySelector('[data-client-id="' + q.id + '"]') || q.el;
      else { q.el = addVisitor(q.text, q.id); queued(q.el, true); }
    });
    if (items.length || queue.length) $("cw-starters").hidden = true;
    scroll();
  }
  function addSources(m, sources) {
    var list = (sources || []).filter(function (s) { return s && safeUrl(s.url); });
    if (!list.length) return;
    var box = el("div", "cw-sources");
    box.appendChild(el("p", "cw-sources-title", S.sources));
    // Numbered: the answer's [n] markers refer to the n-th source.
    var ul = el("ol"), seen = {};
    list.forEach(function (s) {
      if (seen[s.url]) return; seen[s.url] = 1;
      // The server's label: the page's cleaned title and the section's heading.
      var li = el("li"), a = link(s.url, String(s.title || s.url));
      a.setAttribute("data-cloop", "source");
      li.appendChild(a); ul.appendChild(li);
    });
    box.appendChild(ul); m.appendChild(box);
  }
  // Links only to http(s) pages of the site itself (its URL and allowed origins).
  function safeUrl(u) {
    try {
      var x = new URL(String(u));
      if ((x.protocol === "https:" || x.protocol === "http:") && cfg.link_origins.indexOf(x.origin) >= 0 && !x.username && !x.password) return x.href;
    } catch (e) {}
    return null;
  }
  function link(href, text) {
    var a = el("a", null, text);
    a.href = href; a.target = "_top"; a.rel = "noopener noreferrer nofollow";
    return a;
  }

  /* Markdown subset: blank-line paragraphs, "- " / "* " / "1. " lists, **bold**, [text](url).
     Images become their alt text; anything else (HTML included) stays literal text. */
  function renderMarkdown(src, into, sources) {
    var lines = String(src).replace(/\r/g, "").split("\n"), para = [], list = null, listType = "";
    function flushPara() {
      if (para.length) { var p = el("p"); inline(para.join(" "), p, sources); into.appendChild(p); para = []; }
    }
    lines.forEach(function (line) {
      var mUl = /^\s*[-*\u2022]\s+(.*)$/.exec(line), mOl = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      var item = mUl || mOl;
      if (item) {
        flushPara();
        var t = mUl ? "ul" : "ol";
        if (!list || listType !== t) { list = el(t); listType = t; into.appendChild(list); }
        var li = el("li"); inline(item[1], li, sources); list.appendChild(li);
      } else if (!line.trim()) {
        flushPara(); list = null;
      } else {
        list = null;
        para.push(line.replace(/^\s*#{1,6}\s+/, "").trim());
      }
    });
    flushPara();
  }
  function inline(text, into, sources) {
    // Tokens: ![alt](url) | [text](url) | **bold** | [n] (a citation of the n-th source)
    var re = /!\[([^\]]*)\]\(([^)\s]*)[^)]*\)|\[([^\]]+)\]\(([^)\s]*)[^)]*\)|\*\*([^*]+)\*\*|\[(\d{1,3})\]/g, last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) into.appendChild(d.createTextNode(text.slice(last, m.index)));
      if (m[1] != null && m[0][0] === "!") {
        into.appendChild(d.createTextNode(m[1])); // never load an image
      } else if (m[3] != null) {
        var href = safeUrl(m[4]);
        if (href) into.appendChild(link(href, m[3]));
        else into.appendChild(d.createTextNode(m[3]));
      } else if (m[5] != null) {
        into.appendChild(el("strong", null, m[5]));
      } else {
        into.appendChild(cite(m[6], sources));
      }
      last = re.lastIndex;
    }
    if (last < text.length) into.appendChild(d.createTextNode(text.slice(last)));
  }
  // [n] links to the n-th source (the same page and section as its entry under the answer);
  // while the answer streams, its sources are not known yet and it stays text.
  function cite(n, sources) {
    var s = (sources || [])[n - 1], href = s && safeUrl(s.url);
    if (!href) return d.createTextNode("[" + n + "]");
    var a = link(href, "[" + n + "]");
    a.className = "cw-cite";
    a.setAttribute("data-cloop", "cite");
    a.setAttribute("aria-label", S.source + " " + n + ": " + String(s.title || href));
    return a;
  }
  function notice(text) {
    var n = el("div", "cw-notice", text);
    n.setAttribute("role", "status");
    log.appendChild(n); scroll();
  }
  function showError(text, canRetry) {
    clearError();
    var box = el("div", "cw-error");
    box.id = "cw-error";
    box.setAttribute("role", "alert");
    box.appendChild(el("p", null, text));
    if (canRetry) {
      var b = el("button", "cw-secondary", S.retry);
      b.type = "button";
      b.onclick = function () {
        var f = failed; failed = null; clearError();
        if (f) { queued(f.el, true); queue.unshift(f); pump(); }
      };
      box.appendChild(b);
    }
    log.appendChild(box); scroll();
  }
  function clearError() { var e = $("cw-error"); if (e) e.remove(); }
  function showTyping(on) { typing.hidden = !on; if (on) scroll(); }
  function scroll() { log.scrollTop = log.scrollHeight; }

  /* ---------- e-mail, summary, forget ---------- */
  function showEmail() {
    emailForm.hidden = false;
    $("cw-consent").checked = false; // consent is never pre-ticked
    $("cw-email-input").focus();
    scroll(); // the form takes room from the log: keep the answer's end in view
  }
  emailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var inp = $("cw-email-input"), v = inp.value.trim(), err = $("cw-email-error");
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
      err.textContent = S.email_invalid; inp.setAttribute("aria-invalid", "true"); inp.focus(); return;
    }
    err.textContent = ""; inp.removeAttribute("aria-invalid");
    send({ type: "email", email: v, marketing_consent: $("cw-consent").checked });
  });
  $("cw-email-cancel").onclick = function () { emailForm.hidden = true; wantSummary = false; input.focus(); };

  function toggleMenu(open) {
    menu.hidden = !open; menuBtn.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("button").focus();
  }
  menuBtn.onclick = function () { toggleMenu(menu.hidden); };
  menu.addEventListener("keydown", function (e) {
    var items = [].slice.call(menu.querySelectorAll("button")), i = items.indexOf(d.activeElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  $("cw-summary").onclick = function () {
    toggleMenu(false);
    // `ready` said whether this visitor left an e-mail here; without one, ask first.
    // (Should the server still lack one, its "email_required" brings up the form too.)
    if (!hasEmail && ready) { wantSummary = true; showEmail(); return; }
    if (!send({ type: "summary" })) showError(S.error, false);
  };
  $("cw-forget").onclick = function () { toggleMenu(false); confirmBox.hidden = false; $("cw-confirm-no").focus(); };
  $("cw-confirm-no").onclick = function () { confirmBox.hidden = true; input.focus(); };
  $("cw-confirm-yes").onclick = function () {
    confirmBox.hidden = true;
    if (!send({ type: "forget" })) showError(S.error, false);
  };

  /* ---------- composing ---------- */
  $("cw-compose").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value; input.value = ""; ask(t); input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("cw-compose").requestSubmit(); }
  });
  $("cw-starters").addEventListener("click", function (e) {
    if (e.target.classList.contains("cw-starter")) ask(e.target.textContent);
  });
  $("cw-close").onclick = function () { toParent({ type: "cloop:close" }); };
  d.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    if (!menu.hidden) { toggleMenu(false); menuBtn.focus(); }
    else if (!confirmBox.hidden) { confirmBox.hidden = true; input.focus(); }
    else toParent({ type: "cloop:close" });
  });

  if (cfg.preview) { // the admin's live preview: frame_preview.js (loaded only there) drives it
    w.CloopPreview = { cfg: cfg, colours: colours, el: el, addVisitor: addVisitor, addAssistant: addAssistant };
    return;
  }
  d.documentElement.setAttribute("data-cloop-ready", ""); // a hook for tests: handlers are on
  toParent({ type: "cloop:ready" });
})();
