/* Taskdesk keyboard shortcuts (the list is in the dialog ? opens, _shortcuts.jinja2).
 *
 * ?  the shortcuts dialog        /  the header's search box      c  a new task (in a project)
 * j / k  select the next / previous task of a list, board or search results; Enter opens it
 * e  edit   a  assign to me   s  change status (the task shown, or the selected one)
 *
 * Nothing fires while typing in a field or with Ctrl, Alt or Meta held. Every action is
 * announced in an aria-live region. The actions use the pages' own links and forms (with
 * their CSRF token): "a" submits the task page's "Assign to me" form, or posts the same
 * form to the selected task's assign-me URL; "s" focuses the status control.
 */
(function () {
  "use strict";

  var settings = document.getElementById("keys");
  var announcer = document.getElementById("keys-announcer");
  var dialog = document.getElementById("shortcuts");
  if (!settings || !announcer) { return; }
  var selected = null;
  var opener = null;

  function say(key, item) {
    var text = settings.getAttribute("data-say-" + key) || "";
    announcer.textContent = "";
    // A new node's text is read even when it repeats the last message.
    window.setTimeout(function () { announcer.textContent = text.replace("{item}", item || ""); }, 50);
  }

  function typing(target) {
    if (!target || !target.closest) { return false; }
    return target.isContentEditable ||
      !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  // -- the selection in lists -------------------------------------------------------------
  function items() {
    var found = document.querySelectorAll(
      "[data-keys-item], table.data tbody tr, .board-card");
    return Array.prototype.filter.call(found, function (item) {
      return item.querySelector("a[href]") && item.getClientRects().length > 0;
    });
  }

  function linkOf(item) { return item.querySelector("a[href]"); }

  function titleOf(item) { return linkOf(item).textContent.trim(); }

  function move(step) {
    var list = items();
    if (!list.length) { return; }
    var index = list.indexOf(selected);
    index = index === -1 ? (step > 0 ? 0 : list.length - 1)
      : Math.min(list.length - 1, Math.max(0, index + step));
    if (selected) { selected.classList.remove("is-key-selected"); }
    selected = list[index];
    selected.classList.add("is-key-selected");
    linkOf(selected).focus();
    say("selected", titleOf(selected));
  }

  // The task the action is for: the selected one, or the page's own (a task page).
  function selectedTaskUrl() {
    if (selected && document.body.contains(selected)) {
      return linkOf(selected).href.replace(/[?#].*$/, "").replace(/\/$/, "");
    }
    return null;
  }

  function post(url) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    var fields = {
      csrf_token: document.querySelector('meta[name="csrf-token"]').getAttribute("content"),
      next: window.location.pathname + window.location.search
    };
    Object.keys(fields).forEach(function (name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // -- the actions ------------------------------------------------------------------------
  function showShortcuts() {
    if (!dialog || dialog.open) { return; }
    opener = document.activeElement;
    dialog.showModal();
  }

  function focusSearch() {
    var box = document.getElementById("header-search");
    if (!box) { return; }
    box.focus();
    box.select();
    say("search");
  }

  function create() {
    var url = settings.getAttribute("data-keys-new");
    if (!url) { say("no-new"); return; }
    say("new");
    window.location.assign(url);
  }

  function open() {
    if (!selected || !document.body.contains(selected)) { return false; }
    say("open", titleOf(selected));
    window.location.assign(linkOf(selected).href);
    return true;
  }

  function edit() {
    var url = selectedTaskUrl();
    var own = document.querySelector("main a.button[href$='/edit']");
    if (url) { say("edit"); window.location.assign(url + "/edit"); return; }
    if (own) { say("edit"); window.location.assign(own.href); return; }
    say("no-task");
  }

  function assign() {
    var url = selectedTaskUrl();
    if (url) { say("assign"); post(url + "/assign-me"); return; }
    var form = document.querySelector("main form[action$='/assign-me']");
    if (form) { say("assign"); form.requestSubmit(); return; }
    say(document.getElementById("quick-status") ? "not-allowed" : "no-task");
  }

  function changeStatus() {
    var control = selected && document.body.contains(selected)
      ? selected.querySelector("select") : document.getElementById("quick-status");
    if (control) { control.focus(); say("status"); return; }
    var url = selectedTaskUrl();
    if (url) { say("status"); window.location.assign(url + "#quick-status"); return; }
    say("no-task");
  }

  var actions = { "?": showShortcuts, "/": focusSearch, "c": create, "j": function () { move(1); },
                  "k": function () { move(-1); }, "e": edit, "a": assign, "s": changeStatus };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) { return; }
    if (typing(event.target) || (dialog && dialog.open)) { return; }
    if (event.key === "Enter") {
      // A focused link or button opens itself; Enter elsewhere opens the selection.
      if (event.target.closest && event.target.closest("a, button, summary")) { return; }
      if (open()) { event.preventDefault(); }
      return;
    }
    var action = Object.prototype.hasOwnProperty.call(actions, event.key) && actions[event.key];
    if (!action) { return; }
    event.preventDefault();
    action();
  });

  if (dialog) {
    dialog.addEventListener("close", function () {
      if (opener && opener.focus) { opener.focus(); }
      opener = null;
    });
  }

  // "s" on a list row opens the task at its status control.
  if (window.location.hash === "#quick-status") {
    var status = document.getElementById("quick-status");
    if (status) { status.focus(); say("status"); }
  }
})();
