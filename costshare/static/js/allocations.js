// Allocation workspace: picking a formula or a formula to compare shows it at once
// (the forms also work without JavaScript, through their buttons).
(function () {
  "use strict";
  function submitOnChange(selector) {
    document.querySelectorAll(selector).forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) { select.form.submit(); }
      });
    });
  }
  submitOnChange("form.choose-formula select[name=choice]");
  submitOnChange("#compare select[name=compare]");

  // Hovering a member's row in the split lights up the same member in the comparison.
  document.querySelectorAll("table.split tbody tr[data-code]").forEach(function (row) {
    var code = row.getAttribute("data-code");
    function mark(on) {
      document.querySelectorAll('#compare-table tr[data-code="' + code + '"]').forEach(function (other) {
        other.classList.toggle("highlight", on);
      });
    }
    row.addEventListener("mouseenter", function () { mark(true); });
    row.addEventListener("mouseleave", function () { mark(false); });
  });
})();
