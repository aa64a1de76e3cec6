// Negotiation page: each what-if toggle posts the form and swaps in the recomputed results.
// Without JavaScript the same form is a plain GET to the page (shareable address).
(function () {
  "use strict";

  var form = document.getElementById("whatif-form");
  var results = document.getElementById("negotiation-results");
  var status = document.getElementById("whatif-status");
  var downloads = document.querySelectorAll("a[data-keeps-what-if]");
  if (!form || !results || !window.fetch) {
    return;
  }
  var sequence = 0;

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "") {
        params.append(key, value);
      }
    });
    return params.toString();
  }

  function recompute() {
    var mine = ++sequence;
    var started = performance.now();
    results.setAttribute("aria-busy", "true");
    status.textContent = "Recomputing…";
    fetch(form.dataset.endpoint, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": form.dataset.csrf, "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        return response.text().then(function (html) {
          return { ok: response.ok || response.status === 422, html: html };
        });
      })
      .then(function (answer) {
        if (mine !== sequence) {
          return; // a later toggle is on its way; its answer wins
        }
        if (!answer.ok) {
          status.textContent = "Could not recompute; reload the page and try again.";
          return;
        }
        results.innerHTML = answer.html;
        var address = form.action + "?" + query();
        window.history.replaceState(null, "", address);
        // The downloads follow the what-if shown (a reopened scenario's name no longer applies).
        downloads.forEach(function (link) {
          link.href = link.href.split("?")[0] + "?" + query();
        });
        status.textContent = "Updated in " + Math.round(performance.now() - started) + " ms.";
      })
      .catch(function () {
        if (mine === sequence) {
          status.textContent = "Could not reach the server; your what-if is unchanged.";
        }
      })
      .finally(function () {
        if (mine === sequence) {
          results.removeAttribute("aria-busy");
        }
      });
  }

  form.addEventListener("change", recompute);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    recompute();
  });

  // Buttons that delete ask first (post_button's data-confirm).
  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (target.dataset && target.dataset.confirm && !window.confirm(target.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
