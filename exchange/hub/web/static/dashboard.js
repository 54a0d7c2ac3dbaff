// The pages' only script: large type, sortable tables, and following the hub while a demo runs.
// Every page works without it (links and forms do the rest).
(function () {
  "use strict";

  // -- large type, remembered per browser -----------------------------------------------------
  var LARGE = "exchange-large-type";
  function applyLarge(on) {
    document.documentElement.classList.toggle("large", on);
    var button = document.getElementById("large-toggle");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  try { applyLarge(window.localStorage.getItem(LARGE) === "1" || /[?&]large=1\b/.test(location.search)); } catch (e) { /* private mode */ }

  // -- sortable tables: <th data-sort="text|number"><button> and <td data-value> -----------------
  var collator = new Intl.Collator("vi", { sensitivity: "base", numeric: true });
  var sortState = {};  // table id -> [column, direction], re-applied after a live refresh

  function sortTable(table, column, direction) {
    var header = table.tHead.rows[0].cells[column];
    var numeric = header.getAttribute("data-sort") === "number";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[column];
      var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
      return numeric ? parseFloat(raw || "-1") : raw;
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var order = numeric ? x - y : collator.compare(x, y);
      return direction === "ascending" ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === column) th.setAttribute("aria-sort", direction); else th.removeAttribute("aria-sort");
    });
    if (table.id) sortState[table.id] = [column, direction];
  }

  function initSorting(root) {
    Array.prototype.forEach.call(root.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
        var button = th.querySelector("button");
        if (!button) return;
        button.addEventListener("click", function () {
          var current = th.getAttribute("aria-sort");
          // Numbers start from the largest (who sends most), names from A.
          var first = th.getAttribute("data-sort") === "number" ? "descending" : "ascending";
          var next = current ? (current === "ascending" ? "descending" : "ascending") : first;
          sortTable(table, column, next);
        });
      });
      var saved = table.id && sortState[table.id];
      if (saved) sortTable(table, saved[0], saved[1]);
    });
  }

  // -- following the hub: poll /api/activity; reload the page's content when something happened --
  var POLL_MS = 3000;
  // A form the user has started to fill in (a filter chosen, a training action half set up)
  // must not be replaced by the server's copy: the refresh waits until it is sent or reset.
  function dirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") {  // without a `selected` option, the first is the default
        var marked = Array.prototype.some.call(el.options, function (o) { return o.defaultSelected; });
        return Array.prototype.some.call(el.options, function (o, i) {
          return o.selected !== (marked ? o.defaultSelected : i === 0);
        });
      }
      return "defaultValue" in el && el.type !== "hidden" && el.value !== el.defaultValue;
    });
  }
  function busy() {
    var active = document.activeElement;
    if (document.hidden || (active && active.closest && active.closest("form"))) return true;
    var main = document.getElementById("main");
    return !!main && Array.prototype.some.call(main.querySelectorAll("form"), dirty);
  }

  function follow(main) {
    var url = main.getAttribute("data-live");
    if (!url) return;
    var indicator = document.getElementById("live-indicator");
    var version = main.getAttribute("data-version");
    var inflight = false;

    function refreshContent() {
      return fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
        // A 400 page (a period it could not read) is still the page the user is looking at.
        .then(function (r) { return r.status < 500 ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("main");
          if (!fresh || busy()) return false;
          var y = window.scrollY;
          main.innerHTML = fresh.innerHTML;  // one swap, no blank frame; filters are in location.href
          initSorting(main);
          window.scrollTo(0, y);
          return true;
        });
    }

    function tick() {
      if (inflight || document.hidden) return;
      inflight = true;
      fetch(url, { cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (live) {
          if (indicator) {
            indicator.hidden = false;
            indicator.classList.remove("stale");
            indicator.textContent = "live · " + new Date().toLocaleTimeString("vi-VN");
          }
          Array.prototype.forEach.call(main.querySelectorAll("[data-live-key]"), function (el) {
            var k = el.getAttribute("data-live-key");
            if (!(k in live) || el.getAttribute("data-format") === "time") return;
            var text = String(live[k]);
            if (el.textContent !== text) { el.textContent = text; el.classList.add("changed"); }
          });
          var next = String(live.version);
          if (version === null) { version = next; return; }
          if (next !== version && !busy()) {
            return refreshContent().then(function (done) { if (done) version = next; });
          }
        })
        .catch(function () { if (indicator) { indicator.classList.add("stale"); indicator.textContent = "offline"; } })
        .then(function () { inflight = false; });
    }
    window.setInterval(tick, POLL_MS);
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("large-toggle");
    if (button) button.addEventListener("click", function () {
      var on = !document.documentElement.classList.contains("large");
      applyLarge(on);
      try { window.localStorage.setItem(LARGE, on ? "1" : "0"); } catch (e) { /* private mode */ }
    });
    initSorting(document);
    var main = document.getElementById("main");
    if (main) follow(main);
  });
})();
