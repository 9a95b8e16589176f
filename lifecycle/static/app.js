// Small behaviours on top of htmx; the pages work without this file.
(function () {
  "use strict";
  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast";
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = "Request failed (" + xhr.status + ").";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var p = doc.querySelector(".error-page p");
      if (p) message = p.textContent;
    } catch (e) { /* keep the generic message */ }
    toast(message);
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server. Check your connection and try again.");
  });
  // "Select all" checkboxes for bulk actions: <input type=checkbox data-select-all="name">
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (t && t.dataset && t.dataset.selectAll) {
      document.querySelectorAll('input[type=checkbox][name="' + t.dataset.selectAll + '"]').forEach(function (box) {
        box.checked = t.checked;
      });
    }
  });
})();

// GET forms marked data-drop-empty (list filters) send only the fields that have a value,
// so the URL htmx pushes stays short and shareable: /devices?q=probook, not
// /devices?q=probook&school_id=&category=&…
document.addEventListener("htmx:configRequest", function (evt) {
  var d = evt.detail;
  if (d.verb !== "get" || !d.elt || !d.elt.closest || !d.elt.closest("[data-drop-empty]")) return;
  var empty = [];
  d.formData.forEach(function (value, name) {
    if (empty.indexOf(name) < 0 && d.formData.getAll(name).every(function (v) { return v === ""; })) {
      empty.push(name);
    }
  });
  empty.forEach(function (name) { delete d.parameters[name]; });
});

// <button data-print>: print the page (the budget has a print stylesheet).
document.addEventListener("click", function (evt) {
  var t = evt.target;
  if (t && t.closest && t.closest("[data-print]")) window.print();
});

// A click-to-edit save moved the record's version on (HX-Trigger "lifecycle:version"):
// the page's other forms for that record (renew, cancel, retire…) carry it too, so
// they are not refused as stale.
document.body.addEventListener("lifecycle:version", function (evt) {
  var d = evt.detail || {};
  document.querySelectorAll("input[data-version-of]").forEach(function (input) {
    if (input.dataset.versionOf === d.of) input.value = String(d.version);
  });
});
