/* Clopos Admin: keyboard shortcuts and the orders list's small behaviours.
 *
 * A static file because the CSP forbids inline script, and htmx runs with allowEval off, so
 * nothing here is an hx-trigger filter. Every feature degrades to plain HTML without it:
 *
 * - "/" focuses the lookup box (unless the user is typing in a field);
 * - on the orders list, "j"/"k" move a visible focus between rows and Enter opens the row's order
 *   (the focus is on the row's link); a click anywhere on a row opens it too;
 * - a filter checkbox or select submits the filters form at once (htmx then swaps the results);
 * - after a swap the focus goes to the results heading and the summary is announced;
 * - today's list refreshes itself every data-auto-refresh seconds while the tab is visible;
 * - after any other swap (reveal, refresh, the receipt) the focus goes to the swapped region's
 *   [data-swap-focus] element and its [data-announce] text is read out (#announcer);
 * - the colour-scheme buttons apply the scheme the server saved, without a reload;
 * - Back and Forward show the entry they land on, however quickly they are pressed;
 * - the phone menu button folds the navigation; [data-copy] buttons copy a value; [data-print]
 *   buttons print the page.
 */
(function () {
  "use strict";

  // Marks the requests of the self-refresh, so their swaps move no focus.
  var AUTO_HEADER = "X-Console-Auto-Refresh";
  var lastLoaded = Date.now();
  var autoRefreshing = false;
  var swapTarget = null;
  var selectedId = null;
  var refocus = false;

  var NOT_TYPED = { checkbox: true, radio: true, button: true, submit: true, reset: true };

  function typingIn(element) {
    if (!element || element === document.body) return false;
    var tag = element.tagName;
    if (tag === "INPUT") return !NOT_TYPED[(element.type || "").toLowerCase()];
    return tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-order-rows] [data-order-row]"));
  }

  function select(row, focus) {
    rows().forEach(function (other) { other.classList.toggle("is-selected", other === row); });
    if (!row) return;
    selectedId = row.getAttribute("data-order-row");
    var link = row.querySelector("[data-row-link]");
    if (focus && link) {
      link.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (row) { return row.contains(document.activeElement); });
    if (current < 0) current = all.findIndex(function (row) { return row.classList.contains("is-selected"); });
    var next = current < 0 ? 0 : Math.min(all.length - 1, Math.max(0, current + step));
    select(all[next], true);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) return;
    if (event.key === "/") {
      var box = document.querySelector("[data-lookup-box]");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    } else if (event.key === "j" || event.key === "k") {
      if (!rows().length) return;
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "Enter") {
      // Enter on a focused link opens it natively; this covers a selected row when nothing has
      // the focus (never when a button or a link elsewhere has it).
      var row = document.querySelector("[data-order-row].is-selected");
      var active = document.activeElement;
      if (row && (!active || active === document.body)) {
        var link = row.querySelector("[data-row-link]");
        if (link) window.location.assign(link.href);
      }
    }
  });

  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-order-row]");
    if (row) select(row, false);
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("[data-order-row]");
    if (!row || event.target.closest("a, button, input, label, select")) return;
    if (window.getSelection && String(window.getSelection())) return; // the user is selecting text
    var link = row.querySelector("[data-row-link]");
    if (!link) return;
    if (event.ctrlKey || event.metaKey) window.open(link.href, "_blank", "noopener");
    else window.location.assign(link.href);
  });

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("[data-autosubmit]") || !field.form) return;
    if (field.form.requestSubmit) field.form.requestSubmit();
    else field.form.submit();
  });

  // The filters' URL (which htmx pushes) leaves out empty fields and the default sort, as the
  // server's own links do: ?day=2026-11-26&status=PENDING, not ?day=…&from=&to=&sort=newest&….
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "list-filters") return;
    var params = event.detail.parameters;
    Array.from(new Set(Array.from(params.keys()))).forEach(function (key) {
      var kept = params.getAll(key).filter(function (value) {
        return value !== "" && !(key === "sort" && value === "newest");
      });
      params.delete(key);
      kept.forEach(function (value) { params.append(key, value); });
    });
  });

  // --- After htmx swaps ------------------------------------------------------------------------

  var swapIsAuto = false;

  document.addEventListener("htmx:beforeSwap", function (event) {
    swapTarget = event.detail.target ? event.detail.target.id : null;
    var config = event.detail.requestConfig;
    swapIsAuto = !!(config && config.headers && config.headers[AUTO_HEADER]);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (swapTarget !== "results" && swapTarget !== "order-list") return;
    lastLoaded = Date.now();
    var wasAuto = swapIsAuto;
    swapIsAuto = false;
    var summary = document.querySelector("#results [data-summary]");
    var announcer = document.getElementById("list-announcer");
    if (wasAuto) {
      // A refresh the user did not ask for: keep their place; focus only returns where it was.
      var kept = selectedId && document.querySelector('[data-order-row="' + selectedId + '"]');
      if (kept) select(kept, refocus);
      return;
    }
    if (announcer && summary) announcer.textContent = summary.textContent.replace(/\s+/g, " ").trim();
    var target = document.getElementById(swapTarget === "order-list" ? "filter-errors" : "results-title") ||
      document.getElementById("results-title");
    if (target) target.focus();
  });

  document.addEventListener("htmx:historyRestore", function () { lastLoaded = Date.now(); });

  // --- Back and forward ---------------------------------------------------------------------------

  // htmx 2 fetches a history entry from the server (historyCacheSize 0) without cancelling the
  // entry it fetched before, or a filter request still on its way: after two quick Backs, the
  // first entry's late answer could swap its list in under the second entry's URL, and a filter's
  // late answer pushed its URL over the entry Back landed on. The newest request wins: a history
  // fetch cancels the one before it and drops the answers of the requests sent before it (not
  // aborted: htmx logs every abort as an error); a new request cancels a history fetch.
  var historyFetch = null;
  var inFlight = new Map(); // xhr -> the element that sent it

  function pending(xhr) {
    return !!xhr && xhr.readyState !== XMLHttpRequest.DONE;
  }

  document.addEventListener("htmx:beforeSend", function (event) {
    if (pending(historyFetch)) historyFetch.abort();
    historyFetch = null;
    inFlight.set(event.detail.xhr, event.detail.elt);
  });
  document.addEventListener("htmx:afterRequest", function (event) { inFlight.delete(event.detail.xhr); });

  document.addEventListener("htmx:historyCacheMiss", function (event) {
    if (pending(historyFetch)) historyFetch.abort();
    inFlight.forEach(function (elt, xhr) {
      // On the element itself: the restored page has replaced it, and the events htmx fires on a
      // detached element never reach the document.
      elt.addEventListener("htmx:beforeOnLoad", function (late) {
        if (late.detail.xhr === xhr) late.preventDefault();
      });
    });
    inFlight.clear();
    historyFetch = event.detail.xhr;
  });

  // --- Swapped regions: focus and announcement ----------------------------------------------------

  function announce(text) {
    var announcer = document.getElementById("announcer");
    if (!announcer || !text) return;
    announcer.textContent = "";
    // A new text node a moment later, so the same message twice is still read out.
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id === "results" || target.id === "order-list") return;
    var region = target.isConnected ? target : (target.id && document.getElementById(target.id));
    if (!region || !region.querySelector) return;
    // A lazily loaded region (the receipt) says what arrived but never takes the focus from
    // where the user is; a region the user asked for (reveal, refresh) takes it.
    var message = region.getAttribute("data-announce") ||
      (region.querySelector("[data-announce]") || { getAttribute: function () { return ""; } }).getAttribute("data-announce");
    if (message) announce(message);
    var focus = region.hasAttribute("data-swap-focus") ? region : region.querySelector("[data-swap-focus]");
    if (focus && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") focus.focus();
  });

  // --- Colour scheme ------------------------------------------------------------------------------

  document.addEventListener("console:theme", function (event) {
    var theme = event.detail && event.detail.theme;
    var root = document.documentElement;
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
    else root.removeAttribute("data-theme");
    var meta = document.querySelector('meta[name="color-scheme"]');
    if (meta) meta.setAttribute("content", theme === "light" || theme === "dark" ? theme : "light dark");
    document.querySelectorAll("[data-theme-form] button[name=theme]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.value === theme));
    });
    var pressed = document.querySelector('[data-theme-form] button[aria-pressed="true"]');
    announce(pressed ? pressed.getAttribute("title") : "");
  });

  // --- Phone menu, copy and print buttons ---------------------------------------------------------

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      if (nav) nav.classList.toggle("is-open", open);
      return;
    }
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      var value = copy.getAttribute("data-copy");
      var done = function () { announce(copy.getAttribute("data-copied") || value); copy.classList.add("is-copied"); };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(value).then(done, function () {});
      return;
    }
    var print = event.target.closest && event.target.closest("[data-print]");
    if (print) window.print();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toggle = document.querySelector('[data-menu-toggle][aria-expanded="true"]');
    if (!toggle) return;
    toggle.click();
    toggle.focus();
  });

  // --- Today's list refreshes itself while visible ---------------------------------------------

  function refreshIfDue() {
    var results = document.getElementById("results");
    if (!results || !window.htmx || autoRefreshing || pending(historyFetch) || document.visibilityState !== "visible") return;
    var seconds = parseInt(results.getAttribute("data-auto-refresh") || "", 10);
    var url = results.getAttribute("data-refresh-url");
    if (!seconds || !url || Date.now() - lastLoaded < seconds * 1000) return;
    var active = document.activeElement;
    refocus = !!(active && active.closest && active.closest("#results"));
    autoRefreshing = true;
    var headers = {};
    headers[AUTO_HEADER] = "1";
    var done = function () { autoRefreshing = false; lastLoaded = Date.now(); };
    window.htmx.ajax("GET", url, { target: "#results", swap: "outerHTML", headers: headers }).then(done, done);
  }

  setInterval(refreshIfDue, 5000);
  document.addEventListener("visibilitychange", refreshIfDue);
})();
