/* The admin site in the user's colour scheme (saved on the server, written into a meta tag):
 * Django admin's stylesheets read data-theme="light|dark|auto" on <html>.
 *
 * Also one accessibility fix to Django's own widgets: SelectFilter2.js (the two-box picker of
 * groups and permissions) puts aria-label on a role-less <span> icon, which ARIA forbids (axe
 * "aria-prohibited-attr"); those icons get role="img", which allows the label. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="console-theme"]');
  var theme = meta ? meta.getAttribute("content") : "";
  document.documentElement.setAttribute("data-theme", theme === "light" || theme === "dark" ? theme : "auto");
  function labelIcons(root) {
    if (!root.querySelectorAll) return;
    if (root.matches("span[aria-label]:not([role])")) root.setAttribute("role", "img");
    root.querySelectorAll("span[aria-label]:not([role])").forEach(function (icon) { icon.setAttribute("role", "img"); });
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) { change.addedNodes.forEach(labelIcons); });
  }).observe(document.documentElement, { childList: true, subtree: true });

  document.addEventListener("console:theme", function (event) {
    var chosen = event.detail && event.detail.theme;
    document.documentElement.setAttribute("data-theme", chosen === "light" || chosen === "dark" ? chosen : "auto");
  });
})();
