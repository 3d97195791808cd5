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
    // A move comes back to the board as it is shown now: "Show more" may have changed
    // the URL (hx-push-url) since the card's form was rendered.
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form.move-form") && event.detail.formData) {
      event.detail.formData.set("next", window.location.pathname + window.location.search);
    }
  });

  // A refused background request (expired session, no permission, server error) leaves
  // the page showing a move that did not happen: load the page again to show the truth.
  document.addEventListener("htmx:responseError", function () {
    window.location.reload();
  });

  // -- confirmation of destructive actions ------------------------------------------------
  function button(text, value, className) {
    var element = document.createElement("button");
    element.type = "submit";
    element.value = value;
    element.className = className;
    element.textContent = text;
    return element;
  }

  function sendConfirmed(form) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "confirmed";
    field.value = "yes";
    form.appendChild(field);
    form.submit();  // does not fire "submit" again
  }

  function askToConfirm(form) {
    var question = form.getAttribute("data-confirm");
    if (typeof HTMLDialogElement !== "function") {
      if (window.confirm(question)) { sendConfirmed(form); }
      return;
    }
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    var text = document.createElement("p");
    text.id = "confirm-dialog-question";
    text.textContent = question;
    dialog.setAttribute("aria-labelledby", text.id);
    var choices = document.createElement("form");
    choices.method = "dialog";
    choices.className = "actions";
    var yes = button(form.getAttribute("data-confirm-button"), "yes", "button button--danger");
    var no = button(form.getAttribute("data-confirm-cancel"), "no", "button button--secondary");
    choices.appendChild(yes);
    choices.appendChild(no);
    dialog.appendChild(text);
    dialog.appendChild(choices);
    dialog.addEventListener("close", function () {
      var accepted = dialog.returnValue === "yes";
      dialog.remove();
      if (accepted) { sendConfirmed(form); }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();  // the safe choice has the focus
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-confirm]")) { return; }
    if (form.querySelector("input[name='confirmed']")) { return; }
    event.preventDefault();
    askToConfirm(form);
  });

  // -- the board ----------------------------------------------------------------------------
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
