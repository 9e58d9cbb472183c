/* Tutorat — progressive enhancement only: every form works without this file.
 *
 * 1. Typing suggestions. An input with data-autocomplete="/api/communes" (or "/api/metiers")
 *    becomes an ARIA 1.2 combobox: after 2 characters and a short pause, the JSON list
 *    [{value: …}, …] returned by URL?q=… is shown under the field as a listbox.
 *    Keyboard: Down and Up arrows move through the suggestions, Enter picks one, Escape closes
 *    the list, Tab leaves the field. A polite live region says how many suggestions there are.
 *    Mouse and touch: a tap on a suggestion picks it. Without JavaScript (or if the look-up
 *    fails) the field is a plain text input and the server finds the commune or métier typed,
 *    or lists the closest ones in its error message.
 * 2. Answer forms. The "Raison du refus" block is shown only when "Je refuse" is chosen.
 *    Without JavaScript it is always visible.
 * 3. Error summary. When a form comes back with errors, the summary above it gets the focus, so
 *    that a screen reader reads it first; each of its links moves the focus into the field named.
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

    var wrapper = document.createElement("div");
    wrapper.className = "combobox" + (input.classList.contains("input--medium") ? " combobox--medium" : "");
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);

    var list = document.createElement("ul");
    list.id = (input.id || "suggest") + "-suggestions-" + index;
    list.className = "combobox__list";
    list.setAttribute("role", "listbox");
    // A short name: the list is reached only from its field (aria-controls), whose label says the rest.
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    wrapper.appendChild(list);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");

    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    wrapper.parentNode.insertBefore(status, wrapper.nextSibling);

    var lastQuery = "";
    var controller = null;
    var values = [];
    var active = -1;

    function isOpen() { return !list.hidden; }

    function open() {
      if (!values.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      highlight(-1);
    }

    function highlight(i) {
      var options = list.children;
      active = i;
      for (var k = 0; k < options.length; k++) {
        options[k].setAttribute("aria-selected", k === i ? "true" : "false");
      }
      if (i >= 0 && options[i]) {
        input.setAttribute("aria-activedescendant", options[i].id);
        if (options[i].scrollIntoView) { options[i].scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(i) {
      if (i < 0 || i >= values.length) { return; }
      input.value = values[i];
      lastQuery = input.value.trim();
      close();
      status.textContent = "Choisi : " + values[i] + ".";
    }

    function fill(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      values = [];
      items.forEach(function (item) {
        if (!item || typeof item.value !== "string") { return; }
        var option = document.createElement("li");
        option.id = list.id + "-" + values.length;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = item.value;
        var position = values.length;
        // mousedown, not click: the field keeps the focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(position);
        });
        list.appendChild(option);
        values.push(item.value);
      });
      active = -1;
      if (values.length) {
        open();
        status.textContent = values.length + (values.length > 1 ? " suggestions" : " suggestion") +
          ". Utilisez les flèches haut et bas pour choisir, puis Entrée.";
      } else {
        close();
        status.textContent = "Aucune suggestion. Vérifiez l'orthographe ou tapez autre chose.";
      }
    }

    var search = debounce(function () {
      var q = input.value.trim();
      if (q.length < MIN_CHARS) { values = []; close(); return; }
      if (q === lastQuery) { return; }
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
        if (input.value.trim() === q && Array.isArray(items) && document.activeElement === input) { fill(items); }
      }).catch(function () {
        // Network error or aborted request: the field still works as a plain text input.
      });
    }, DELAY_MS);

    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      var key = event.key;
      if (key === "ArrowDown" || key === "Down") {
        if (!values.length) { return; }
        event.preventDefault();
        if (!isOpen()) { open(); }
        highlight(active + 1 < values.length ? active + 1 : 0);
      } else if (key === "ArrowUp" || key === "Up") {
        if (!values.length) { return; }
        event.preventDefault();
        if (!isOpen()) { open(); }
        highlight(active > 0 ? active - 1 : values.length - 1);
      } else if (key === "Enter") {
        // Enter picks the highlighted suggestion; with none highlighted, it submits the form as usual.
        if (isOpen() && active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (key === "Escape" || key === "Esc") {
        if (isOpen()) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", close);
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

  function setupErrorSummary(summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
      if (!link) { return; }
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (!target) { return; }
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      if (!field) { return; }
      event.preventDefault();
      // Show the question (legend or label) with the field, then put the focus in the field.
      var fieldset = field.closest("fieldset");
      var legend = fieldset ? fieldset.querySelector("legend") : null;
      var label = field.id ? document.querySelector('label[for="' + field.id + '"]') : null;
      var top = legend || label || field;
      if (top.scrollIntoView) { top.scrollIntoView(); }
      field.focus({ preventScroll: true });
    });
  }

  function init() {
    var summary = document.querySelector(".error-summary");
    if (summary) { setupErrorSummary(summary); }
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
