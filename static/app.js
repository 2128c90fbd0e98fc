// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Move focus to the first field in error after a form re-renders, so keyboard and screen-reader users land on it.
  function focusFirstError(root) {
    var el = (root || document).querySelector('[aria-invalid="true"]');
    if (el) { el.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusFirstError(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { focusFirstError(evt.detail.target); });
  // htmx does not swap 4xx responses by default; our 409/422 fragments carry the messages, so swap them.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // The main menu folds behind its button on narrow screens (app.css); the button says whether it is open.
  document.documentElement.classList.add("js");
  var toggle = document.querySelector(".nav-toggle");
  var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  function openMenu(open) {
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  }
  if (menu) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () { openMenu(toggle.getAttribute("aria-expanded") !== "true"); });
  }
  // Escape closes the open menu, or cancels a list row's in-place edit (its Cancel puts the row back).
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") { return; }
    var editing = evt.target.closest && evt.target.closest("tr.row-editing");
    if (editing) {
      editing.querySelector(".row-cancel").click();
    } else if (menu && toggle.getAttribute("aria-expanded") === "true" && !toggle.hidden) {
      openMenu(false);
      toggle.focus();
    }
  });
  // A row swapped in keeps the keyboard where it was: on the first field of its edit, or back on its Edit.
  document.addEventListener("htmx:load", function (evt) {
    var el = evt.target;
    if (!el.matches || !el.matches("tr")) { return; }
    if (el.classList.contains("row-editing")) {
      el.querySelector("select, input:not([type=hidden]):not([name=pick])").focus();
    } else if (document.activeElement === document.body && el.querySelector(".row-edit")) {
      el.querySelector(".row-edit").focus();
    }
  });
  // A register row's Edit loads the row's in-place edit in its place (the link itself opens the full form).
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a.row-edit");
    if (!link || !window.htmx || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.button !== 0) { return; }
    evt.preventDefault();
    window.htmx.ajax("GET", link.getAttribute("href").replace(/\/edit$/, "/row-edit"), {target: link.closest("tr"), swap: "outerHTML"});
  });
  // A register row's title is cut to one line; pointing at it shows the whole of it (the markup carries it once).
  document.addEventListener("mouseover", function (evt) {
    var link = evt.target.closest && evt.target.closest("td.cell-title a");
    if (link && !link.title) { link.title = link.textContent; }
  });
  // A file over the upload limit is named beside its field as it is chosen, before the browser sends it (the server
  // refuses it too, but a body that large is stopped before the page could say so beside the field).
  function fileTooLarge(input) {
    var max = Number(input.dataset.maxBytes), big = [];
    Array.prototype.forEach.call(input.files || [], function (f) { if (f.size > max) { big.push(f.name); } });
    var limit = max >= 1048576 ? Math.floor(max / 1048576) + " MB" : max >= 1024 ? Math.floor(max / 1024) + " kB" : max + " bytes";
    var message = big.length ? big.join(", ") + (big.length > 1 ? " are" : " is") + " larger than " + limit +
      ", the most a file may be. Choose a smaller file." : "";
    var id = input.id + "-size-error", note = document.getElementById(id);
    if (!note) {
      note = document.createElement("small");
      note.id = id;
      note.className = "field-error";
      note.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id).trim());
    }
    note.textContent = message;
    note.hidden = !message;
    input.setCustomValidity(message);
    if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    return Boolean(message);
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("input[type=file][data-max-bytes]")) { fileTooLarge(evt.target); }
  });
  document.addEventListener("submit", function (evt) {
    var input = evt.target.querySelector("input[type=file][data-max-bytes]");
    if (input && fileTooLarge(input)) {
      evt.preventDefault();
      input.focus();
    }
  }, true);
  // Select-all on click for one-time secrets (API tokens).
  document.addEventListener("focusin", function (evt) {
    if (evt.target && evt.target.id === "new-token") { evt.target.select(); }
  });
})();
