/* Runs before the page is drawn (a blocking static file: the CSP forbids inline script), so the
 * styles for "JavaScript is on" (a folded menu on phones) apply from the first frame. */
document.documentElement.classList.add("js");
