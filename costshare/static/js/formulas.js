// The formula editor checks the formula against an offer's members as the user types:
// it asks formulas.check (GET, the same fields the form posts) and shows each problem
// beside its field. Without JavaScript the "Check" button does the same on the server.
(function () {
  "use strict";
  var form = document.querySelector("form[data-check-url]");
  if (!form) { return; }
  var url = form.getAttribute("data-check-url");
  var offerField = form.getAttribute("data-offer-field");
  var offerId = form.getAttribute("data-offer-id");
  var summary = document.getElementById("formula-check");
  var KEEP = ["name", "description", "source", "csrf_token"];
  var timer = null;
  var sequence = 0;

  function offer() {
    if (offerId) { return offerId; }
    var select = offerField ? form.elements[offerField] : null;
    return select ? select.value : "";
  }

  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (node) {
      var id = (node.id || "").replace(/-error$/, "");
      if (KEEP.indexOf(id) === -1) { node.remove(); }
    });
    form.querySelectorAll(".has-error").forEach(function (node) {
      var input = node.querySelector("input, select, textarea");
      if (!input || KEEP.indexOf(input.name) === -1) { node.classList.remove("has-error"); }
    });
  }

  function showError(fieldId, message) {
    var input = document.getElementById(fieldId);
    if (!input) { return false; }
    var holder = input.closest("td, .field") || input.parentNode;
    var note = document.createElement("div");
    note.className = "error";
    note.id = fieldId + "-error";
    note.setAttribute("role", "alert");
    note.textContent = message;
    holder.appendChild(note);
    holder.classList.add("has-error");
    return true;
  }

  function render(outcome) {
    clearErrors();
    var loose = (outcome.messages || []).slice();
    (outcome.problems || []).forEach(function (problem) {
      if (!problem.field || !showError(problem.field, problem.message)) {
        if (loose.indexOf(problem.message) === -1) { loose.push(problem.message); }
      }
    });
    if (!summary) { return; }
    summary.textContent = "";
    var box = document.createElement("p");
    if (outcome.ok) {
      box.className = "flash flash-success";
      box.textContent = outcome.offer
        ? "All " + outcome.members + " members of " + outcome.offer + " have the facts this formula needs."
        : "The formula is valid.";
    } else {
      box.className = "flash flash-error";
      var count = (outcome.problems || []).length || loose.length;
      box.textContent = count === 1 ? "1 problem, shown beside its field." : count + " problems, shown beside their fields.";
    }
    summary.appendChild(box);
    if (loose.length) {
      var list = document.createElement("ul");
      list.className = "problems";
      loose.forEach(function (message) {
        var item = document.createElement("li");
        item.className = "error";
        item.textContent = message;
        list.appendChild(item);
      });
      summary.appendChild(list);
    }
    if (outcome.needed && outcome.needed.length) {
      var needed = document.createElement("p");
      needed.className = "explain";
      needed.textContent = "Reads: " + outcome.needed.join(", ");
      summary.appendChild(needed);
    }
  }

  function check() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (KEEP.indexOf(key) === -1 && key !== "action" && typeof value === "string") {
        params.append(key, value);
      }
    });
    params.set("offer_id", offer());
    var mine = ++sequence;
    fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (outcome) { if (outcome && mine === sequence) { render(outcome); } })
      .catch(function () { /* the server check on submit still runs */ });
  }

  function toggleComponents() {
    var method = form.elements.method;
    var components = form.querySelector("[data-for-method]");
    if (method && components) {
      components.hidden = method.value !== components.getAttribute("data-for-method");
    }
  }

  // A component's name and tiers/weights row shows when its kind needs it, or on request.
  document.documentElement.classList.add("js");
  function syncMore() {
    form.querySelectorAll("tr.component-row").forEach(function (row) {
      var more = row.nextElementSibling;
      var kind = row.querySelector("select");
      if (!more || !kind) { return; }
      if (kind.value === "tiers" || kind.value === "table") { more.classList.remove("quiet"); }
      if (kind.value && !row.querySelector(".more-toggle") && more.classList.contains("quiet")) {
        var toggle = document.createElement("button");
        toggle.type = "button";
        toggle.className = "link more-toggle";
        toggle.textContent = "name…";
        toggle.addEventListener("click", function () { more.classList.remove("quiet"); toggle.remove(); });
        row.lastElementChild.appendChild(toggle);
      }
    });
  }
  syncMore();

  // The usage window's months, or its first and last month: only what the choice reads.
  function toggleUsageWindow() {
    var window_ = form.elements.usage_window;
    if (!window_) { return; }
    var between = window_.value === "between";
    form.querySelectorAll(".usage-between").forEach(function (node) { node.hidden = !between; });
    form.querySelectorAll(".usage-months").forEach(function (node) { node.hidden = between; });
  }
  toggleUsageWindow();

  form.addEventListener("input", function (event) {
    if (KEEP.indexOf(event.target.name) !== -1) { return; }
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  });
  form.addEventListener("change", function (event) {
    toggleComponents();
    toggleUsageWindow();
    syncMore();
    if (event.target.tagName === "SELECT") { clearTimeout(timer); check(); }
  });
  toggleComponents();
})();
