/* Tutorat — progressive enhancement only: every form works without this file.
 *
 * 1. Typing suggestions. An input with data-autocomplete="/api/communes" (or "/api/metiers")
 *    gets a <datalist>: after 2 characters and a short pause, the JSON list [{value: …}, …]
 *    returned by URL?q=… fills it. The browser shows the list and the user picks one
 *    (keyboard and screen readers work as with any datalist).
 * 2. Answer forms. The "Raison du refus" block is shown only when "Je refuse" is chosen.
 *    Without JavaScript it is always visible.
 */
(function () {
  "use strict";

  var MIN_CHARS = 2;
  var DELAY_MS = 250;

  function debounce(fn, delay) {
    var timer = null;
    return function () {
      var args = arguments;
      var self = this;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(self, args); }, delay);
    };
  }

  function setupAutocomplete(input, index) {
    var url = input.getAttribute("data-autocomplete");
    if (!url || !window.fetch) { return; }

    var list = document.createElement("datalist");
    list.id = (input.id || "suggest") + "-suggestions-" + index;
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");

    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    list.parentNode.insertBefore(status, list.nextSibling);

    var lastQuery = "";
    var controller = null;
    var shown = [];

    function fill(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      shown = [];
      items.forEach(function (item) {
        if (!item || typeof item.value !== "string") { return; }
        var option = document.createElement("option");
        option.value = item.value;
        list.appendChild(option);
        shown.push(item.value);
      });
      status.textContent = shown.length
        ? shown.length + (shown.length > 1 ? " suggestions disponibles." : " suggestion disponible.")
        : "Aucune suggestion.";
    }

    var search = debounce(function () {
      var q = input.value.trim();
      if (q.length < MIN_CHARS || q === lastQuery) { return; }
      // A value picked from the list: do not search again.
      if (shown.indexOf(input.value) !== -1) { return; }
      lastQuery = q;
      if (controller && controller.abort) { controller.abort(); }
      controller = window.AbortController ? new window.AbortController() : null;
      var sep = url.indexOf("?") === -1 ? "?" : "&";
      window.fetch(url + sep + "q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (items) {
        if (input.value.trim() === q && Array.isArray(items)) { fill(items); }
      }).catch(function () {
        // Network error or aborted request: the field still works as a plain text input.
      });
    }, DELAY_MS);

    input.addEventListener("input", search);
  }

  function setupDeclineReason(block) {
    var groupName = block.getAttribute("data-show-when");
    var wanted = block.getAttribute("data-show-value");
    var form = block.closest("form");
    if (!groupName || !form) { return; }
    var radios = form.querySelectorAll('input[type="radio"][name="' + groupName + '"]');
    if (!radios.length) { return; }

    function update() {
      var checked = form.querySelector('input[type="radio"][name="' + groupName + '"]:checked');
      var show = checked !== null && checked.value === wanted;
      // Keep it visible when the server reported an error in it.
      if (block.querySelector(".field--error")) { show = true; }
      block.hidden = !show;
    }

    Array.prototype.forEach.call(radios, function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-autocomplete]");
    Array.prototype.forEach.call(inputs, setupAutocomplete);
    var blocks = document.querySelectorAll("[data-show-when]");
    Array.prototype.forEach.call(blocks, setupDeclineReason);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
