/* Taskdesk bulk change on the task list: progressive enhancement of <form data-bulk>.
 *
 * Without JavaScript the list's checkboxes and the "Change the selected tasks" fieldset are
 * a plain form posted to .../tasks/bulk. Here: a click on a row's checkbox with Shift held
 * selects (or clears) every box between it and the one clicked before; the header's box
 * selects the whole page; the action bar sticks to the bottom of the window while anything
 * is selected; and the number selected is announced through the bar's aria-live region.
 */
(function () {
  "use strict";

  function setUp(form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="task"]'));
    var page = form.querySelector("[data-bulk-page]");
    var all = form.querySelector("[data-bulk-all-matching]");
    var bar = form.querySelector("[data-bulk-bar]");
    var count = form.querySelector("[data-bulk-count]");
    var last = null;

    function say() {
      var selected = boxes.filter(function (box) { return box.checked; }).length;
      var message;
      if (all && all.checked) {
        message = form.getAttribute("data-bulk-all").replace("{count}", all.getAttribute("data-count"));
      } else if (selected) {
        message = form.getAttribute("data-bulk-some").replace("{count}", String(selected));
      } else {
        message = form.getAttribute("data-bulk-none");
      }
      if (count.textContent !== message) { count.textContent = message; }
      bar.classList.toggle("is-active", Boolean(selected || (all && all.checked)));
      if (page) {
        page.checked = selected === boxes.length;
        page.indeterminate = selected > 0 && selected < boxes.length;
      }
    }

    boxes.forEach(function (box, index) {
      box.addEventListener("click", function (event) {
        if (event.shiftKey && last !== null && last !== index) {
          var from = Math.min(last, index);
          var to = Math.max(last, index);
          for (var i = from; i <= to; i += 1) { boxes[i].checked = box.checked; }
        }
        last = index;
        say();
      });
    });
    if (page) {
      page.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = page.checked; });
        last = null;
        say();
      });
    }
    if (all) { all.addEventListener("change", say); }
    say();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
