// Progressive enhancement: confirmations, and on the campaign form the live audience size
// and more message slots.
(function () {
  "use strict";
  // Forms that cannot be undone ask first (inline handlers are barred by the CSP).
  document.querySelectorAll("form[data-confirm]").forEach(function (confirmed) {
    confirmed.addEventListener("submit", function (event) {
      if (!window.confirm(confirmed.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // Copy buttons: data-copy names the element whose text is copied.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var result = document.getElementById("copy-result");
      var say = function (text) { if (result) { result.textContent = text; } };
      if (!source) { return; }
      var text = source.textContent.trim();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () { say("Copied."); },
          function () { say("Could not copy: select the token and copy it by hand."); });
      } else {
        var range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        say(document.execCommand("copy") ? "Copied." : "Select the token and copy it by hand.");
      }
    });
  });
  var form = document.querySelector("form[data-audience-url]");
  if (!form) { return; }
  var output = document.getElementById("audience-size");
  var timer = null;
  function refresh() {
    var data = new FormData(form);
    fetch(form.getAttribute("data-audience-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (response) { return response.json(); }).then(function (size) {
      if (size.error) { output.textContent = size.error; return; }
      var parts = [];
      Object.keys(size).forEach(function (key) {
        if (key !== "total") { parts.push(key + ": " + size[key]); }
      });
      output.textContent = size.total + " caregivers (" + parts.join(", ") + ")";
    }).catch(function () { output.textContent = "could not count the audience"; });
  }
  form.addEventListener("input", function (event) {
    if (!event.target.closest("[data-audience]")) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
  var add = document.getElementById("add-message");
  if (add) {
    add.addEventListener("click", function () {
      var slots = form.querySelectorAll("fieldset.message");
      var last = slots[slots.length - 1];
      var copy = last.cloneNode(true);
      var index = slots.length;
      copy.querySelectorAll("[name]").forEach(function (field) {
        field.name = field.name.replace(/_\d+$/, "_" + index);
        field.value = "";
      });
      copy.querySelector("legend").textContent = "Message " + (index + 1);
      last.after(copy);
    });
  }
})();
