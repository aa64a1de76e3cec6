// The pricing editor: show the parts of the chosen pricing kind, add rows to tier tables.
(function () {
  "use strict";
  var editor = document.getElementById("pricing-editor");
  if (editor) {
    var kind = editor.querySelector("select[name=kind]");
    var parts = editor.querySelectorAll(".pricing-part");
    var show = function () {
      var chosen = kind.value;
      parts.forEach(function (part) {
        var kinds = (part.getAttribute("data-kinds") || "").split(" ");
        part.hidden = kinds.indexOf(chosen) < 0;
      });
      var isList = chosen === "per_member_list";
      editor.querySelectorAll(".when-list").forEach(function (el) { el.hidden = !isList; });
      editor.querySelectorAll(".when-solo").forEach(function (el) { el.hidden = isList; });
    };
    kind.addEventListener("change", show);
    show();
  }

  // "Add a row": copy the table's last row with the next index and empty inputs.
  document.querySelectorAll("button.add-row").forEach(function (button) {
    button.addEventListener("click", function () {
      var body = document.getElementById(button.getAttribute("data-table")).tBodies[0];
      var last = body.rows[body.rows.length - 1];
      if (!last) { return; }
      var copy = last.cloneNode(true);
      var index = body.rows.length;
      copy.querySelectorAll("input, select").forEach(function (input) {
        ["name", "id"].forEach(function (attr) {
          var value = input.getAttribute(attr);
          if (value) { input.setAttribute(attr, value.replace(/-\d+-/, "-" + index + "-")); }
        });
        if (input.tagName === "INPUT") { input.value = ""; }
        input.removeAttribute("aria-invalid");
      });
      copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
      copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
      body.appendChild(copy);
      var first = copy.querySelector("input");
      if (first) { first.focus(); }
    });
  });

  // Participants: "tick all" for the invite list.
  var all = document.getElementById("invite-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("#invite-list input[type=checkbox]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
})();
