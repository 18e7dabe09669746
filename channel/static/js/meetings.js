// Monthly meetings: small conveniences; every page works without this file.
// - a filter or region select with data-autosubmit sends its form when changed;
// - the invitee lists get "tick all / tick none";
// - the agenda form shows the promotion picker only for a policy item.
(function () {
  "use strict";

  function autosubmit(select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  }

  function checkGroup(group) {
    var buttons = group.querySelector(".check-all");
    if (!buttons) return;
    buttons.hidden = false;
    buttons.querySelectorAll("[data-check]").forEach(function (button) {
      button.addEventListener("click", function () {
        var on = button.getAttribute("data-check") === "all";
        group.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = on; });
      });
    });
  }

  function agendaForm(form) {
    var kind = form.querySelector("select[name=kind]");
    var promotion = form.querySelector("[data-promotion-field]");
    if (!kind || !promotion) return;
    function sync() {
      var policy = kind.value === "policy";
      var hasError = promotion.querySelector(".has-error") !== null;
      promotion.hidden = !(policy || hasError);
      var select = promotion.querySelector("select");
      if (select && promotion.hidden) select.value = "";
    }
    kind.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autosubmit]").forEach(autosubmit);
    document.querySelectorAll("[data-check-group]").forEach(checkGroup);
    document.querySelectorAll("[data-agenda-form]").forEach(agendaForm);
  });
})();
