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
  // Select-all on click for one-time secrets (API tokens).
  document.addEventListener("focusin", function (evt) {
    if (evt.target && evt.target.id === "new-token") { evt.target.select(); }
  });
})();
