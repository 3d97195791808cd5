/* Taskdesk attachments: progressive enhancement; the file inputs work without it.
 *
 * - A form marked data-drop-upload (the task page's attachments) takes files dropped on it
 *   and sends them at once.
 * - A file input with data-paste-from="<textarea id>" (the comment form) also receives the
 *   files pasted (screenshots) or dropped into that textarea; they go with the comment.
 * - The description box of a form with data-upload-url (the task's edit page) uploads what
 *   is pasted or dropped into it through the JSON API with the session's CSRF token, and
 *   inserts a Markdown link (an image for pictures) at the cursor.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function filesOf(dataTransfer) {
    var found = [];
    if (!dataTransfer) { return found; }
    for (var i = 0; i < dataTransfer.files.length; i++) { found.push(dataTransfer.files[i]); }
    return found;
  }

  function named(file) {
    // A pasted screenshot is called "image.png" by most browsers: give it a time instead.
    if (!file.name || file.name === "image.png") {
      var stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
      return new File([file], "screenshot-" + stamp + ".png", { type: file.type });
    }
    return file;
  }

  function addToInput(input, files) {
    if (typeof DataTransfer !== "function") { return false; }
    var list = new DataTransfer();
    for (var i = 0; i < input.files.length; i++) { list.items.add(input.files[i]); }
    files.forEach(function (file) { list.items.add(named(file)); });
    input.files = list.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function highlightWhileDragging(element) {
    element.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        element.classList.add("is-dragging");
      }
    });
    element.addEventListener("dragleave", function () { element.classList.remove("is-dragging"); });
  }

  document.querySelectorAll("form[data-drop-upload]").forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector(".drop-zone") || form;
    highlightWhileDragging(zone);
    zone.addEventListener("drop", function (event) {
      var files = filesOf(event.dataTransfer);
      zone.classList.remove("is-dragging");
      if (!files.length || !input) { return; }
      event.preventDefault();
      if (addToInput(input, files)) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
    });
  });

  document.querySelectorAll("input[type=file][data-paste-from]").forEach(function (input) {
    var box = document.getElementById(input.getAttribute("data-paste-from"));
    if (!box) { return; }
    highlightWhileDragging(box);
    box.addEventListener("drop", function (event) {
      var files = filesOf(event.dataTransfer);
      box.classList.remove("is-dragging");
      if (files.length && addToInput(input, files)) { event.preventDefault(); }
    });
    box.addEventListener("paste", function (event) {
      var files = filesOf(event.clipboardData);
      if (files.length && addToInput(input, files)) { event.preventDefault(); }
    });
  });

  function insertAt(box, text) {
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function upload(form, box, status, files) {
    var data = new FormData();
    files.forEach(function (file) { data.append("file", named(file)); });
    status.textContent = form.getAttribute("data-uploading");
    fetch(form.getAttribute("data-upload-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok) {
        var error = answer.body.error || {};
        status.textContent = (error.fields && error.fields.file) || error.message || "";
        return;
      }
      var base = form.getAttribute("data-files-url");
      answer.body.items.forEach(function (item) {
        var link = base + item.id + "/download";
        var label = item.filename.replace(/[\[\]]/g, "");
        insertAt(box, (item.inline ? "!" : "") + "[" + label + "](" + link + ")\n");
      });
      status.textContent = "";
    }).catch(function () {
      status.textContent = form.getAttribute("data-upload-failed");
    });
  }

  document.querySelectorAll("form[data-upload-url]").forEach(function (form) {
    var box = form.querySelector('textarea[name="description"]');
    if (!box) { return; }
    var status = document.createElement("p");
    status.className = "hint";
    status.setAttribute("aria-live", "polite");
    box.insertAdjacentElement("afterend", status);
    highlightWhileDragging(box);
    box.addEventListener("drop", function (event) {
      var files = filesOf(event.dataTransfer);
      box.classList.remove("is-dragging");
      if (files.length) { event.preventDefault(); upload(form, box, status, files); }
    });
    box.addEventListener("paste", function (event) {
      var files = filesOf(event.clipboardData);
      if (files.length) { event.preventDefault(); upload(form, box, status, files); }
    });
  });
})();
