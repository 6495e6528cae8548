// Copy buttons: <button data-copy="ID"> copies the value (or text) of the element ID.
(function () {
  "use strict";
  function fallback(source) {
    if (source.select) { source.select(); } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return document.execCommand("copy");
  }
  function announce(button, text) {
    var status = button.parentNode.querySelector(".copy-status");
    if (status) { status.textContent = text; }
    button.setAttribute("data-copied", text === "Copied" ? "yes" : "no");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.tagName === "INPUT" ? source.value : source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { announce(button, "Copied"); },
        function () { announce(button, fallback(source) ? "Copied" : "Select and copy it by hand"); }
      );
    } else {
      announce(button, fallback(source) ? "Copied" : "Select and copy it by hand");
    }
  });
})();
