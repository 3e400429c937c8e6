// Progressive enhancement: confirmations, and on the campaign form the live audience size,
// the live checker of each text and more message slots.
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
      output.textContent = size.total + (size.total === 1 ? " caregiver (" : " caregivers (") +
        parts.join(", ") + ")";
    }).catch(function () { output.textContent = "could not count the audience"; });
  }
  // The checker while staff type: segments in words and findings, under each text.
  var checkTimers = {};
  function check(area) {
    var data = new FormData();
    data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
    data.append("language", area.getAttribute("data-language"));
    data.append("text", area.value);
    var output = document.getElementById("check-" + area.id);
    if (!output) { return; }
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (response) { return response.json(); }).then(function (result) {
      output.textContent = "";
      if (result.error) { output.textContent = result.error; return; }
      if (!area.value.trim()) { return; }
      var words = document.createElement("span");
      words.className = "segments";
      words.textContent = result.words;
      output.appendChild(words);
      var list = document.createElement("ul");
      list.className = "findings";
      result.findings.forEach(function (finding) {
        var item = document.createElement("li");
        item.className = "finding " + finding.severity;
        item.textContent = finding.severity + ": " + finding.message;
        list.appendChild(item);
      });
      if (!result.findings.length) {
        var ok = document.createElement("li");
        ok.className = "finding ok";
        ok.textContent = "Checker: no problems found.";
        list.appendChild(ok);
      }
      output.appendChild(list);
    }).catch(function () { output.textContent = "could not check this text"; });
  }
  form.addEventListener("input", function (event) {
    var area = event.target.closest("textarea[data-language]");
    if (area) {
      clearTimeout(checkTimers[area.id]);
      checkTimers[area.id] = setTimeout(function () { check(area); }, 400);
      return;
    }
    if (!event.target.closest("[data-audience]")) { return; }
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
  form.querySelectorAll("textarea[data-language]").forEach(function (area) {
    if (area.value.trim()) { check(area); }
  });
  var add = document.getElementById("add-message");
  if (add) {
    add.addEventListener("click", function () {
      var slots = form.querySelectorAll("fieldset.message");
      var last = slots[slots.length - 1];
      var copy = last.cloneNode(true);
      var index = slots.length;
      function renumber(value) { return value.replace(/_\d+$/, "_" + index); }
      copy.querySelectorAll("[name]").forEach(function (field) {
        field.name = renumber(field.name);
        field.value = "";
        field.removeAttribute("aria-invalid");
      });
      copy.querySelectorAll("[id]").forEach(function (el) { el.id = renumber(el.id); });
      copy.querySelectorAll("label[for]").forEach(function (label) {
        label.htmlFor = renumber(label.htmlFor);
      });
      copy.querySelectorAll("[aria-describedby]").forEach(function (field) {
        var ids = field.getAttribute("aria-describedby").split(" ").filter(function (id) {
          return id.indexOf("check-") === 0;
        });
        field.setAttribute("aria-describedby", ids.map(renumber).join(" "));
      });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      copy.querySelectorAll(".live-check").forEach(function (el) { el.textContent = ""; });
      copy.querySelector("legend").textContent = "Message " + (index + 1);
      last.after(copy);
    });
  }
})();
// The tip editor: the checker's findings at their fields, the size and the phone preview,
// fetched as staff type (debounced), with the session's CSRF token in a header.
(function () {
  "use strict";
  var form = document.querySelector("form[data-check-url]");
  if (!form) { return; }
  var timer = null;
  var sequence = 0;
  function show(result) {
    form.querySelectorAll("ul.findings").forEach(function (list) { list.textContent = ""; });
    result.findings.forEach(function (finding) {
      var list = form.querySelector('ul.findings[data-field="' + finding.field + '"]') ||
        form.querySelector('ul.findings[data-field="text"]');
      var item = document.createElement("li");
      item.className = "finding " + finding.severity;
      item.textContent = finding.message + (finding.severity === "warning" ? " (warning)" : "");
      list.appendChild(item);
    });
    var errors = result.findings.filter(function (f) { return f.severity === "error"; });
    form.setAttribute("data-errors", String(errors.length));
    document.getElementById("tip-size").textContent = result.size;
    document.getElementById("tip-preview").textContent = result.preview;
  }
  function check() {
    var data = new FormData(form);
    var mine = ++sequence;
    fetch(form.getAttribute("data-check-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (response) { return response.json(); }).then(function (result) {
      if (mine === sequence) { show(result); }  // an older answer never overwrites a newer one
    }).catch(function () {
      document.getElementById("tip-size").textContent = "the checker could not be reached";
    });
  }
  form.addEventListener("input", function (event) {
    if (!event.target.closest("[data-check]")) { return; }
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  check();
})();
