/* The install page's Copy button: the snippet to the clipboard, with a spoken confirmation. */
(function () {
  var button = document.querySelector("[data-cloop=copy-snippet]");
  var status = document.querySelector("[data-cloop=copy-status]");
  if (!button) return;
  function say(text) { status.textContent = text; }
  button.addEventListener("click", function () {
    var text = document.getElementById(button.getAttribute("data-copy-target")).textContent.trim();
    var done = function () { say("Copied. Paste it into your pages' HTML."); button.textContent = "Copied"; };
    var fallback = function () {
      // Without the Clipboard API (an http:// admin): select the text for Ctrl-C.
      var range = document.createRange(), node = document.getElementById("cloop-snippet");
      range.selectNodeContents(node);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      say("Selected: press Ctrl-C (⌘-C) to copy.");
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
})();
