// Channel: small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector("[data-toggle=nav]");
  var nav = document.getElementById("mainnav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // Buttons with data-confirm ask before their form is sent.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });
  // The user form shows only the binding fields that the chosen role needs.
  var role = document.getElementById("role");
  if (role) {
    var sync = function () {
      document.querySelectorAll("[class*='role-']").forEach(function (el) {
        var wanted = Array.from(el.classList).some(function (c) { return c === "role-" + role.value; });
        el.hidden = !wanted;
      });
    };
    role.addEventListener("change", sync);
    sync();
  }
});
