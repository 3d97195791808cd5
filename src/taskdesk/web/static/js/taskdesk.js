/* Taskdesk: progressive enhancement only; every flow also works without JavaScript.
 *
 * Board: cards can be dragged onto another column. A drop sets the card's status <select>
 * and submits the card's own form, which htmx (hx-post on the form) sends in the
 * background and whose answer replaces the board, so the page does not reload.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the CSRF header as well as the form field.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // A refused background request (expired session, no permission, server error) leaves
  // the page showing a move that did not happen: load the page again to show the truth.
  document.addEventListener("htmx:responseError", function () {
    window.location.reload();
  });

  var dragged = null;

  function columnOf(element) {
    return element && element.closest ? element.closest("[data-status]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[draggable='true']");
    if (!card) { return; }
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    dragged = null;
    document.querySelectorAll(".is-drop-target").forEach(function (column) {
      column.classList.remove("is-drop-target");
    });
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("is-drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("is-drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column) { return; }
    event.preventDefault();
    column.classList.remove("is-drop-target");
    var form = dragged.querySelector("form.move-form");
    var status = column.getAttribute("data-status");
    if (!form || columnOf(dragged) === column) { return; }
    form.querySelector("select[name='status']").value = status;
    column.querySelector(".board__cards").appendChild(dragged);
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });
})();
