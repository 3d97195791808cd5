/* Taskdesk live updates: the page hears of changes and re-fetches what changed.
 *
 * <body> says where (web/helpers.py live_attrs): data-live-stream (an event stream, served
 * under Hypercorn), data-live-poll (JSON polled every data-live-seconds, with an ETag so an
 * unchanged answer is a bodiless 304), data-live-bell (the header's bell), data-live-task (the
 * task a task page shows). A change carries ids and a kind only; the board, the task list,
 * a task's comments and details and the bell are fetched again through the normal pages
 * (htmx), so every permission check stays on the server. A stream that is refused (too many
 * open, no permission) or breaks for good falls back to polling from the last event seen.
 */
(function () {
  "use strict";

  var body = document.body;
  var pollUrl = body && body.getAttribute("data-live-poll");
  if (!pollUrl || !window.fetch) { return; }
  var streamUrl = body.getAttribute("data-live-stream");
  var bellUrl = body.getAttribute("data-live-bell");
  var seconds = Math.max(2, parseInt(body.getAttribute("data-live-seconds"), 10) || 10);
  var taskId = parseInt(body.getAttribute("data-live-task"), 10) || null;

  var last = null;      // newest event id seen (the cursor of the poll, Last-Event-ID)
  var unread = null;    // the unread count last seen
  var etag = null;
  var stopped = false;

  // -- re-fetching ------------------------------------------------------------------------
  var pending = {};
  var timer = null;

  function refresh(selector) {
    if (!document.querySelector(selector)) { return; }
    pending[selector] = true;
    if (timer === null) { timer = window.setTimeout(flush, 250); }  // one fetch per burst
  }

  function flush() {
    timer = null;
    var selectors = Object.keys(pending);
    pending = {};
    if (!window.htmx) { return; }
    var here = window.location.pathname + window.location.search;
    selectors.forEach(function (selector) {
      if (selector === ".bell") {
        window.htmx.ajax("GET", bellUrl, {target: ".bell", swap: "outerHTML"});
      } else {
        window.htmx.ajax("GET", here, {target: selector, select: selector, swap: "outerHTML"});
      }
    });
  }

  function noticeOnEditForm() {
    var form = document.querySelector("form[data-live-edit]");
    if (!form || form.querySelector(".live-notice")) { return Boolean(form); }
    var notice = document.createElement("p");
    notice.className = "live-notice flash flash--error";
    notice.setAttribute("role", "alert");
    notice.textContent = body.getAttribute("data-live-notice") + " ";
    var link = document.createElement("a");
    link.href = window.location.pathname + window.location.search;
    link.textContent = body.getAttribute("data-live-reload");
    notice.appendChild(link);
    form.insertBefore(notice, form.firstChild);
    return true;
  }

  function refreshAll() {
    ["#board", "#task-list", "#task-comments", "#task-details", "#description"]
      .forEach(refresh);
  }

  function apply(change) {
    if (typeof change.id === "number" && (last === null || change.id > last)) {
      last = change.id;
    }
    refresh("#board");
    refresh("#task-list");
    if (taskId !== null && change.task === taskId) {
      if (noticeOnEditForm()) { return; }
      if (change.comment !== null) {
        refresh("#task-comments");
      } else {
        refresh("#task-details");
        refresh("#description");
      }
    }
  }

  function setUnread(count) {
    if (typeof count !== "number") { return; }
    if (unread !== null && count !== unread) { refresh(".bell"); }
    unread = count;
  }

  // -- polling ----------------------------------------------------------------------------
  function pollOnce() {
    if (stopped) { return; }
    var url = pollUrl;
    if (last !== null) { url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + last; }
    // A poll is not the person's activity: it does not keep the session from ending.
    var headers = {"Accept": "application/json", "X-Taskdesk-Background": "1"};
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, {headers: headers, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 304) { return null; }
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          // Signed out, removed from the project, the project gone: nothing more to hear.
          if (response.status >= 400 && response.status < 500 || response.ok) {
            stopped = true;
          }
          return null;
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (!data) { return; }
        if (last !== null) {
          if (data.reset) { refreshAll(); }
          (data.changes || []).forEach(apply);
        }
        last = data.last;
        setUnread(data.unread);
      })
      .catch(function () { /* offline or restarting: try again at the next tick */ })
      .then(function () {
        if (!stopped) { window.setTimeout(pollOnce, seconds * 1000); }
      });
  }

  // -- the event stream -------------------------------------------------------------------
  function listen() {
    var source = new window.EventSource(streamUrl);
    source.addEventListener("change", function (event) {
      apply(JSON.parse(event.data));
    });
    source.addEventListener("inbox", function (event) {
      var data = JSON.parse(event.data || "{}");
      if (typeof data.unread === "number") { setUnread(data.unread); } else { refresh(".bell"); }
    });
    source.addEventListener("reset", refreshAll);
    source.addEventListener("closed", function () {
      // The server ended the stream for good (signed out, no longer a member).
      stopped = true;
      source.close();
    });
    source.addEventListener("error", function () {
      if (source.readyState === window.EventSource.CLOSED && !stopped) {
        // Refused (429/503/403) or unreachable for good: poll from the last event seen.
        pollOnce();
      }
    });
  }

  if (streamUrl && window.EventSource) {
    listen();
  } else {
    pollOnce();
  }
})();
