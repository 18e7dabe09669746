// Promotions: the promotion form's region-and-budget rows (add and remove rows), the hint under
// the rate that fits the chosen type, and on the execution report form the chosen photos listed,
// with a warning when there are too many or they are too large to send together.
// Without this file every page still works: the form has blank rows (ignored), every hint shows,
// and the server refuses too many photos with a message.
(function () {
  "use strict";

  function setupRows(editor) {
    var body = editor.querySelector("tbody");
    var addButton = editor.querySelector("[data-add-row]");
    if (!body || !addButton) return;
    var pattern = /^rows-(\d+)-/;

    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]")); }
    function isBlank(row) {
      return Array.prototype.every.call(row.querySelectorAll("input, select"), function (el) {
        return !el.value.trim();
      });
    }
    function clear(row) {
      row.querySelectorAll("input, select").forEach(function (el) {
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        el.removeAttribute("aria-invalid");
      });
      row.querySelectorAll(".error").forEach(function (el) { el.parentNode.removeChild(el); });
      row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    }
    function nextIndex() {
      var highest = -1;
      body.querySelectorAll("[name]").forEach(function (el) {
        var m = pattern.exec(el.name);
        if (m) highest = Math.max(highest, parseInt(m[1], 10));
      });
      return highest + 1;
    }
    function wire(row) {
      var remove = row.querySelector("[data-remove-row]");
      if (!remove) return;
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if (rows().length > 1) row.parentNode.removeChild(row); else clear(row);
      });
    }
    function addRow() {
      var index = nextIndex();
      var row = rows()[0].cloneNode(true);
      row.querySelectorAll("[name], [id]").forEach(function (el) {
        ["name", "id"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(pattern, "rows-" + index + "-"));
        });
      });
      clear(row);
      body.appendChild(row);
      wire(row);
      var first = row.querySelector("select, input");
      if (first) first.focus();
    }

    // With the script only the rows in use are shown, and one blank row to fill in.
    var blank = rows().filter(isBlank);
    blank.slice(1).forEach(function (row) {
      if (rows().length > 1) row.parentNode.removeChild(row);
    });
    rows().forEach(wire);
    addButton.hidden = false;
    addButton.addEventListener("click", addRow);
  }

  function setupRateHints(form) {
    var kind = form.querySelector("select[name=kind]");
    var hints = form.querySelectorAll("[data-rate-hint]");
    if (!kind || !hints.length) return;
    function sync() {
      hints.forEach(function (el) { el.hidden = el.getAttribute("data-rate-hint") !== kind.value; });
    }
    kind.addEventListener("change", sync);
    sync();
  }

  function setupPhotos(box) {
    var input = box.querySelector("input[type=file]");
    var list = box.querySelector("[data-photo-names]");
    var warning = box.querySelector("[data-photos-warning]");
    if (!input || !list || !warning) return;
    var most = parseInt(box.getAttribute("data-max-photos") || "0", 10);
    var maxBytes = parseInt(box.getAttribute("data-max-bytes") || "0", 10);
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      list.textContent = "";
      var total = 0;
      files.forEach(function (f) {
        total += f.size;
        var li = document.createElement("li");
        li.textContent = f.name + " · " + Math.max(1, Math.round(f.size / 1024)) + " KB";
        list.appendChild(li);
      });
      warning.hidden = !((most && files.length > most) || (maxBytes && total > maxBytes));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-budget-rows]").forEach(setupRows);
    document.querySelectorAll("#promotion-form").forEach(setupRateHints);
    document.querySelectorAll("[data-photos]").forEach(setupPhotos);
  });
})();
