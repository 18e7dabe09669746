// Expense claims: on a line form the nights and city tier are shown only for accommodation.
// Without this file the form still works: the fields are always shown, and the server ignores
// them for other categories.
(function () {
  "use strict";

  function setupLineForm(form) {
    var category = form.querySelector("select[name=category]");
    var block = form.querySelector("[data-accommodation]");
    if (!category || !block) return;
    function sync() {
      var wanted = category.value === "accommodation";
      var hasError = block.querySelector(".has-error") !== null;
      block.hidden = !(wanted || hasError);
      block.querySelectorAll("input, select").forEach(function (el) { el.disabled = block.hidden; });
    }
    category.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-line-form]").forEach(setupLineForm);
  });
})();
