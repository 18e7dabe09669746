// Ten-day plans: the market-notes rows of a plan (stock on hand and sell-out by product: add and
// remove rows), and the "select all" boxes of the planning grid and the approvals list. The
// planned shipment lines use the ledger's line editor (ledger.js: the same markup, the unit price
// prefilled from the list price, each amount and the total shown live in exact fen).
// Without this file every page still works: the form has blank rows, and blank rows are ignored.
(function () {
  "use strict";

  function setupRows(editor) {
    var prefix = editor.getAttribute("data-rows");
    var body = editor.querySelector("tbody");
    var addButton = editor.querySelector("[data-add-row]");
    if (!prefix || !body || !addButton) return;
    var pattern = new RegExp("^" + prefix + "-(\\d+)-");

    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-row]")); }
    function isBlank(row) {
      return Array.prototype.every.call(row.querySelectorAll("input, select"), function (el) {
        return el.tagName === "SELECT" ? !el.value : !el.value.trim();
      });
    }
    function clear(row) {
      row.querySelectorAll("input, select").forEach(function (el) {
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
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
          if (value) el.setAttribute(attr, value.replace(pattern, prefix + "-" + index + "-"));
        });
      });
      clear(row);
      body.appendChild(row);
      wire(row);
      var first = row.querySelector("select, input");
      if (first) first.focus();
    }

    // With the script only the rows in use are shown (at least one); "Add product" adds more.
    rows().slice().reverse().forEach(function (row) {
      if (rows().length > 1 && isBlank(row)) row.parentNode.removeChild(row);
    });
    rows().forEach(wire);
    addButton.hidden = false;
    addButton.addEventListener("click", addRow);
  }

  function setupSelectAll(box) {
    var name = box.getAttribute("data-select-all");
    var scope = box.form || document;
    function boxes() {
      return Array.prototype.filter.call(scope.querySelectorAll("input[type=checkbox]"), function (el) {
        return el.name === name;
      });
    }
    box.addEventListener("change", function () {
      boxes().forEach(function (el) { el.checked = box.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rows]").forEach(setupRows);
    document.querySelectorAll("[data-select-all]").forEach(setupSelectAll);
  });
})();
