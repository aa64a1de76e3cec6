// Billing pages: confirmations, the year picker, and progress while a run is issued or zipped.
// Without JavaScript every form and link still works; the page just waits without a bar.
(function () {
  "use strict";

  function confirmed(form) {
    var question = form.getAttribute("data-confirm");
    return !question || window.confirm(question);
  }

  document.querySelectorAll("form[data-confirm]:not([data-progress])").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!confirmed(form)) { event.preventDefault(); }
    });
  });

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Poll a progress URL and show {done, total} in a <progress> and a sentence.
  function watch(url, box, verb) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    box.hidden = false;
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || !data.total) { return; }
          bar.max = data.total;
          bar.value = data.done;
          text.textContent = " " + verb + " " + data.done + " of " + data.total + " PDFs…";
        })
        .catch(function () {});
    }, 400);
    return function stop(message) {
      window.clearInterval(timer);
      if (message) { text.textContent = " " + message; }
    };
  }

  function errorText(html, status) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var message = doc.querySelector(".error-page h1 + p, .flash-error");
    return message ? message.textContent.trim() : "The server answered " + status + ".";
  }

  var issueForm = document.getElementById("issue-form");
  if (issueForm) {
    issueForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!confirmed(issueForm)) { return; }
      var button = issueForm.querySelector("button[type=submit]");
      button.disabled = true;
      var stop = watch(issueForm.getAttribute("data-progress"),
                       issueForm.querySelector(".progress-box"), "Rendered");
      // redirect: "manual" leaves the flash message for the page we open next.
      fetch(issueForm.action, {
        method: "POST", body: new FormData(issueForm), credentials: "same-origin", redirect: "manual"
      })
        .then(function (response) {
          if (response.type === "opaqueredirect" || response.ok) {
            stop("Issued. Opening the run…");
            window.location.assign(issueForm.getAttribute("data-done"));
            return null;
          }
          return response.text().then(function (html) {
            stop(errorText(html, response.status));
            button.disabled = false;
          });
        })
        .catch(function () { stop("The connection failed; reload the page to see what was issued."); });
    });
  }

  document.querySelectorAll("a[data-zip]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var box = document.getElementById("zip-progress");
      var stop = watch(link.getAttribute("data-zip"), box, "Rendered");
      fetch(link.href, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          var disposition = response.headers.get("Content-Disposition") || "";
          var match = /filename="([^"]+)"/.exec(disposition);
          return response.blob().then(function (blob) {
            var url = URL.createObjectURL(blob);
            var anchor = document.createElement("a");
            anchor.href = url;
            anchor.download = match ? match[1] : "invoices.zip";
            document.body.appendChild(anchor);
            anchor.click();
            anchor.remove();
            window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
            stop("The ZIP is downloaded.");
          });
        })
        .catch(function () { stop("The ZIP could not be made; try again."); });
    });
  });
})();
