// The product-line editor of a shipment or return: add and remove rows, the unit price prefilled
// from the chosen product's list price, each line's amount and the live total. Money is exact:
// yuan text is turned into integer fen (BigInt), never a float. Without this file the form
// still works: it has five empty rows, blank ones are ignored, and the server computes.
(function () {
  "use strict";

  var MONEY = /^([0-9]+)(?:\.([0-9]{1,2}))?$/;
  var WHOLE = /^[0-9]+$/;

  function toFen(text) {
    var m = MONEY.exec((text || "").trim());
    if (!m) return null;
    return BigInt(m[1]) * 100n + BigInt(((m[2] || "") + "00").slice(0, 2));
  }

  function formatFen(fen) {
    var negative = fen < 0n;
    if (negative) fen = -fen;
    var yuan = (fen / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = (fen % 100n).toString().padStart(2, "0");
    return (negative ? "-" : "") + "¥" + yuan + "." + cents;
  }

  function setup(editor) {
    var body = editor.querySelector("tbody");
    var totalOut = editor.querySelector("[data-total]");
    var addButton = editor.querySelector("[data-add-line]");
    if (!body || !totalOut || !addButton) return;

    function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr[data-line]")); }
    function parts(row) {
      return {
        product: row.querySelector("[data-product]"),
        quantity: row.querySelector("[data-quantity]"),
        price: row.querySelector("[data-unit-price]"),
        amount: row.querySelector("[data-amount]"),
        number: row.querySelector("[data-line-no]"),
        remove: row.querySelector("[data-remove-line]")
      };
    }
    function isBlank(row) {
      var p = parts(row);
      return !p.product.value && !p.quantity.value.trim() && !p.price.value.trim();
    }

    function recompute() {
      var sum = 0n, any = false, complete = true;
      rows().forEach(function (row, i) {
        var p = parts(row);
        p.number.textContent = String(i + 1);
        if (isBlank(row)) { p.amount.textContent = ""; return; }
        any = true;
        var q = p.quantity.value.trim();
        var price = toFen(p.price.value);
        if (!p.product.value || !WHOLE.test(q) || BigInt(q) === 0n || price === null) {
          p.amount.textContent = "—";
          complete = false;
          return;
        }
        var amount = BigInt(q) * price;
        p.amount.textContent = formatFen(amount);
        sum += amount;
      });
      totalOut.textContent = !any ? formatFen(0n) : (complete ? formatFen(sum) : "—");
    }

    function prefill(row) {
      var p = parts(row);
      var option = p.product.options[p.product.selectedIndex];
      var listPrice = option ? option.getAttribute("data-price") : null;
      // Replace the price only while it is empty or still the previous product's list price.
      if (listPrice && (!p.price.value.trim() || p.price.value === p.price.getAttribute("data-prefilled"))) {
        p.price.value = listPrice;
        p.price.setAttribute("data-prefilled", listPrice);
      }
    }

    function wire(row) {
      var p = parts(row);
      p.product.addEventListener("change", function () { prefill(row); recompute(); });
      p.quantity.addEventListener("input", recompute);
      p.price.addEventListener("input", recompute);
      p.remove.hidden = false;
      p.remove.addEventListener("click", function () {
        if (rows().length > 1) {
          row.parentNode.removeChild(row);
        } else {
          clear(row);
        }
        recompute();
      });
    }

    function clear(row) {
      row.querySelectorAll("input, select").forEach(function (el) {
        if (el.tagName === "SELECT") el.selectedIndex = 0; else el.value = "";
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
        el.removeAttribute("data-prefilled");
      });
      row.querySelectorAll(".error").forEach(function (el) { el.parentNode.removeChild(el); });
      row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    }

    function nextIndex() {
      var highest = -1;
      body.querySelectorAll("[name^='lines-']").forEach(function (el) {
        var m = /^lines-(\d+)-/.exec(el.name);
        if (m) highest = Math.max(highest, parseInt(m[1], 10));
      });
      return highest + 1;
    }

    function addRow() {
      var index = nextIndex();
      var row = rows()[0].cloneNode(true);
      row.querySelectorAll("[name], [id]").forEach(function (el) {
        ["name", "id"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/^lines-\d+-/, "lines-" + index + "-"));
        });
      });
      clear(row);
      body.appendChild(row);
      wire(row);
      recompute();
      parts(row).product.focus();
    }

    // With the script, only the rows in use are shown (at least one); "Add line" adds more.
    rows().slice().reverse().forEach(function (row) {
      if (rows().length > 1 && isBlank(row)) row.parentNode.removeChild(row);
    });
    rows().forEach(wire);
    addButton.hidden = false;
    addButton.addEventListener("click", addRow);
    recompute();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-lines]").forEach(setup);
  });
})();
