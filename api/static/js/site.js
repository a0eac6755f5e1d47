// Behaviour shared by every page. Loaded as a file (the pages' CSP allows no inline script).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a") : null;
    if (!link) return;
    // The language switch keeps the fragment: on the upload page it carries the link's token.
    if (link.hasAttribute("data-keep-hash") && location.hash) {
      link.href = link.href.split("#")[0] + location.hash;
      return;
    }
    // The skip link moves the focus without touching the fragment, for the same reason.
    if (link.classList.contains("skip")) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) {
        event.preventDefault();
        target.focus();
        target.scrollIntoView();
      }
    }
  });
})();
