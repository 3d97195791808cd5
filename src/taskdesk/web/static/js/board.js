/* Taskdesk board: order cards by drag and drop or by keyboard.
 *
 * Each card has a move form (POST .../tasks/<n>/move, sent by htmx, whose answer replaces
 * the board): without JavaScript its status and "Move", "Move up" and "Move down" buttons
 * work as they are. Here a drop, or Alt+Up/Down (within the column) and Alt+Left/Right (to the next
 * column) on a focused card, moves the card in the page at once and sends the form with
 * its new column and the card now above it ("after") or, on top, below it ("before").
 * After a keyboard move the card keeps the focus and its new place is announced.
 */
(function () {
  "use strict";

  var dragged = null;
  var origin = null;      // where the dragged card was: {parent, next}, to undo a cancel
  var dropped = false;
  var announce = null;    // the number of a card moved by keyboard, to focus and announce
  var focused = null;     // the id of the card holding the focus when the board is replaced

  function cellOf(element) {
    return element && element.closest ? element.closest("[data-status]") : null;
  }

  function cardsIn(cell) {
    return Array.prototype.slice.call(cell.querySelectorAll(".board-card"));
  }

  function setField(form, name, value) {
    var field = form.querySelector("input[type='hidden'][name='" + name + "']");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    field.value = value;
  }

  /* Send the card's place as it is now in the page. */
  function send(card, byKeyboard) {
    var form = card.querySelector("form.move-form");
    var cell = cellOf(card);
    if (!form || !cell) { return; }
    var cards = cardsIn(cell);
    var index = cards.indexOf(card);
    var above = cards[index - 1];
    var below = cards[index + 1];
    form.elements.status.value = cell.getAttribute("data-status");
    setField(form, "after", above ? above.getAttribute("data-number") : "");
    setField(form, "before", !above && below ? below.getAttribute("data-number") : "");
    announce = byKeyboard ? card.getAttribute("data-number") : null;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  // -- drag and drop -------------------------------------------------------------------------
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[draggable='true']");
    if (!card) { return; }
    dragged = card;
    dropped = false;
    origin = {parent: card.parentNode, next: card.nextSibling};
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("is-dragging");
      if (!dropped && origin) { origin.parent.insertBefore(dragged, origin.next); }
    }
    dragged = null;
    document.querySelectorAll(".is-drop-target").forEach(function (cell) {
      cell.classList.remove("is-drop-target");
    });
  });

  /* Show the card where it would land: before the first card whose middle is below the
     pointer, or last. */
  document.addEventListener("dragover", function (event) {
    var cell = cellOf(event.target);
    if (!dragged || !cell) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".is-drop-target").forEach(function (other) {
      if (other !== cell) { other.classList.remove("is-drop-target"); }
    });
    cell.classList.add("is-drop-target");
    var list = cell.querySelector(".board__cards");
    var next = null;
    cardsIn(cell).some(function (card) {
      if (card === dragged) { return false; }
      var box = card.getBoundingClientRect();
      if (event.clientY < box.top + box.height / 2) { next = card; return true; }
      return false;
    });
    if (next !== dragged.nextSibling || dragged.parentNode !== list) {
      list.insertBefore(dragged, next);
    }
  });

  document.addEventListener("drop", function (event) {
    var cell = cellOf(event.target);
    if (!dragged || !cell) { return; }
    event.preventDefault();
    dropped = true;
    cell.classList.remove("is-drop-target");
    var moved = origin && (dragged.parentNode !== origin.parent ||
                           dragged.nextSibling !== origin.next);
    if (moved) { send(dragged, false); }
  });

  // -- keyboard -------------------------------------------------------------------------------
  var KEYS = {ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right"};

  document.addEventListener("keydown", function (event) {
    var direction = KEYS[event.key];
    if (!direction || !event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    if (event.target.tagName === "SELECT") { return; }
    var card = event.target.closest && event.target.closest(".board-card[draggable='true']");
    var cell = cellOf(card);
    if (!card || !cell) { return; }
    event.preventDefault();  // Alt+Left would go back in the history
    var list = card.parentNode;
    if (direction === "up") {
      if (!card.previousElementSibling) { return; }
      list.insertBefore(card, card.previousElementSibling);
    } else if (direction === "down") {
      if (!card.nextElementSibling) { return; }
      list.insertBefore(card, card.nextElementSibling.nextSibling);
    } else {
      var row = Array.prototype.slice.call(cell.parentNode.children).filter(function (e) {
        return e.hasAttribute("data-status");
      });
      var target = row[row.indexOf(cell) + (direction === "left" ? -1 : 1)];
      if (!target) { return; }
      var cards = target.querySelector(".board__cards");
      cards.insertBefore(card, cards.firstChild);
    }
    card.querySelector(".board-card__title").focus();
    send(card, true);
  });

  // -- after the board is replaced --------------------------------------------------------------
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "board") { return; }
    var active = document.activeElement;
    var card = active && active.closest ? active.closest(".board-card") : null;
    focused = card && target.contains(card) ? card.id : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    var number = announce;
    var id = number ? "card-" + number : focused;
    announce = null;
    focused = null;
    var card = id ? document.getElementById(id) : null;
    if (!card) { return; }
    var link = card.querySelector(".board-card__title");
    if (link) { link.focus({preventScroll: false}); }
    var board = document.getElementById("board");
    var region = document.getElementById("board-announce");
    var cell = cellOf(card);
    if (!number || !board || !region || !cell) { return; }
    var cards = cardsIn(cell);
    region.textContent = board.getAttribute("data-announce")
      .replace("{number}", number)
      .replace("{column}", cell.getAttribute("data-label"))
      .replace("{position}", String(cards.indexOf(card) + 1))
      .replace("{count}", String(cards.length));
  });
})();
