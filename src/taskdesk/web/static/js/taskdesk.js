/* Taskdesk: progressive enhancement only; every flow also works without JavaScript.
 * The board's drag and drop and keyboard moves are in board.js.
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
})();
