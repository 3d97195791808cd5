/* Taskdesk people picker: progressive enhancement of person fields.
 *
 * Without JavaScript a person field is a plain text field that takes a username or an exact
 * display name. Here every <input data-people="URL"> becomes a combobox (WAI-ARIA APG
 * "editable combobox with list autocomplete"): as one types, matching people are fetched
 * from URL?q=… (debounced; answers arriving out of order are dropped) and shown in a
 * listbox. Up/Down move through it (aria-activedescendant keeps focus in the field), Enter
 * or a click chooses, Escape closes it. Choosing puts the username in the field, so the form
 * sends what it always sent, and shows the display name next to it. A <datalist> the field
 * had (e.g. "me" and "none" in the task filter) becomes the first, fixed suggestions.
 *
 * Mentions: in a <textarea data-mentions="URL"> (the comment box, a task's description) the
 * same suggestions open while the word before the caret starts with "@" ("@li", "@李"); the
 * keys are the same, and choosing replaces that word with "@username " (the text keeps the
 * username, which is what a mention is). Typing on, a space or Escape closes the list.
 */
(function () {
  "use strict";

  var DELAY = 200;
  var counter = 0;

  function text(element, value) {
    element.textContent = value;
    return element;
  }

  function make(tag, className) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    return element;
  }

  /* The "@word" the caret ends in a textarea: {start, query} or null. The "@" must start
   * the text or follow a space or punctuation (not "lina@example.com"). */
  function mentionAt(field) {
    var end = field.selectionStart;
    if (end !== field.selectionEnd) { return null; }
    var before = field.value.slice(0, end);
    var match = /(^|[\s(\[{"'，。、；：（【「])@([^\s@]{1,64})$/.exec(before);
    if (!match) { return null; }
    return { start: end - match[2].length - 1, query: match[2] };
  }

  function PeoplePicker(input) {
    var id = input.id || ("people-" + (++counter));
    input.id = id;
    this.input = input;
    this.mentions = input.tagName === "TEXTAREA";
    this.source = input.getAttribute(this.mentions ? "data-mentions" : "data-people");
    this.chosen = this.mentions ? null : document.getElementById(input.name + "-chosen");
    this.fixed = this.mentions ? [] : this.takeDatalist();
    this.mention = null;
    this.cache = {};
    this.timer = null;
    this.sequence = 0;
    this.items = [];
    this.active = -1;

    var wrapper = make("div", "people");
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    this.list = make("ul", "people__list");
    this.list.id = id + "-listbox";
    this.list.setAttribute("role", "listbox");
    this.list.hidden = true;
    var label = document.querySelector("label[for='" + id + "']");
    if (label) {
      if (!label.id) { label.id = id + "-label"; }
      this.list.setAttribute("aria-labelledby", label.id);
    }
    wrapper.appendChild(this.list);
    this.status = make("div", "visually-hidden");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    wrapper.appendChild(this.status);

    if (this.mentions) {
      // A text area stays a text area; the list is named as the people one may mention.
      this.list.removeAttribute("aria-labelledby");
      this.list.setAttribute("aria-label", input.getAttribute("data-mentions-label") || "");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-controls", this.list.id);
    } else {
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-controls", this.list.id);
      input.setAttribute("autocomplete", "off");
    }
    input.setAttribute("aria-expanded", "false");

    input.addEventListener("input", this.onInput.bind(this));
    input.addEventListener("keydown", this.onKeydown.bind(this));
    input.addEventListener("blur", this.cancel.bind(this));
    // mousedown, not click: choosing must happen before the field's blur closes the list.
    this.list.addEventListener("mousedown", this.onPointer.bind(this));
  }

  PeoplePicker.prototype.takeDatalist = function () {
    var listId = this.input.getAttribute("list");
    var datalist = listId && document.getElementById(listId);
    if (!datalist) { return []; }
    this.input.removeAttribute("list");
    return Array.prototype.map.call(datalist.options, function (option) {
      return { username: option.value, display_name: option.textContent, fixed: true };
    });
  };

  /* Whether suggestions apply now: "kind=user" means only while the form's "kind" is "user". */
  PeoplePicker.prototype.enabled = function () {
    var when = this.input.getAttribute("data-people-when");
    if (!when || !this.input.form) { return true; }
    var parts = when.split("=");
    var field = this.input.form.elements[parts[0]];
    return !field || field.value === parts[1];
  };

  /* What is being searched for now: the field's text, or the "@word" at the caret. */
  PeoplePicker.prototype.query = function () {
    if (!this.mentions) { return this.input.value.trim(); }
    this.mention = mentionAt(this.input);
    return this.mention ? this.mention.query : "";
  };

  PeoplePicker.prototype.onInput = function () {
    var picker = this;
    if (this.chosen) { text(this.chosen, ""); }
    window.clearTimeout(this.timer);
    var query = this.query();
    if (!query || !this.enabled()) {
      this.close();
      return;
    }
    this.timer = window.setTimeout(function () { picker.search(query); }, DELAY);
  };

  PeoplePicker.prototype.search = function (query) {
    var picker = this;
    var sequence = ++this.sequence;
    var key = query.toLowerCase();
    if (this.cache[key]) {
      this.show(query, this.cache[key]);
      return;
    }
    var url = this.source + (this.source.indexOf("?") < 0 ? "?" : "&") +
      "q=" + encodeURIComponent(query);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (body) {
        picker.cache[key] = body.people || [];
        // Only the answer to the latest question is shown.
        if (sequence === picker.sequence && picker.query() === query &&
            document.activeElement === picker.input) {
          picker.show(query, picker.cache[key]);
        }
      })
      .catch(function () {
        // No suggestions (offline, signed out): the plain field still works.
        picker.close();
      });
  };

  PeoplePicker.prototype.show = function (query, people) {
    var lowered = query.toLowerCase();
    var fixed = this.fixed.filter(function (item) {
      return item.username.indexOf(lowered) === 0 ||
        item.display_name.toLowerCase().indexOf(lowered) === 0;
    });
    this.items = fixed.concat(people);
    this.list.textContent = "";
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    var list = this.list;
    var id = this.list.id;
    this.items.forEach(function (person, index) {
      var option = make("li", "people__option");
      option.id = id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-index", String(index));
      option.appendChild(text(make("span", "people__name"), person.display_name));
      if (!person.fixed) {
        option.appendChild(text(make("span", "people__username"), "@" + person.username));
      }
      if (person.email) {
        option.appendChild(text(make("span", "people__email"), person.email));
      }
      list.appendChild(option);
    });
    this.announce();
    if (this.items.length) {
      this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    } else {
      this.close();
    }
  };

  PeoplePicker.prototype.announce = function () {
    var count = this.items.length;
    var message = count === 0 ? this.input.getAttribute("data-people-none")
      : count === 1 ? this.input.getAttribute("data-people-one")
      : this.input.getAttribute("data-people-many").replace("{count}", String(count));
    text(this.status, message || "");
  };

  /* Leaving the field or pressing Escape also drops a search not answered yet. */
  PeoplePicker.prototype.cancel = function () {
    window.clearTimeout(this.timer);
    this.sequence++;
    this.close();
  };

  PeoplePicker.prototype.isOpen = function () {
    return !this.list.hidden;
  };

  PeoplePicker.prototype.close = function () {
    this.list.hidden = true;
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  PeoplePicker.prototype.highlight = function (index) {
    var options = this.list.children;
    if (this.active >= 0 && options[this.active]) {
      options[this.active].setAttribute("aria-selected", "false");
    }
    this.active = index;
    var option = options[index];
    option.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  };

  PeoplePicker.prototype.choose = function (index) {
    var person = this.items[index];
    if (!person) { return; }
    if (this.mentions) {
      this.insertMention(person);
      return;
    }
    this.input.value = person.username;
    if (this.chosen && !person.fixed) {
      var template = this.input.getAttribute("data-people-chosen") || "{name}";
      text(this.chosen, template.replace("{name}", person.display_name));
    }
    this.close();
    text(this.status, this.chosen ? this.chosen.textContent : person.display_name);
  };

  /* Replace the "@word" at the caret by "@username " and put the caret after it. */
  PeoplePicker.prototype.insertMention = function (person) {
    var field = this.input;
    var mention = this.mention || mentionAt(field);
    this.close();
    if (!mention) { return; }
    var end = mention.start + 1 + mention.query.length;
    var inserted = "@" + person.username + " ";
    field.value = field.value.slice(0, mention.start) + inserted + field.value.slice(end);
    var caret = mention.start + inserted.length;
    field.setSelectionRange(caret, caret);
    field.focus();
    this.mention = null;
    text(this.status, person.display_name);
  };

  PeoplePicker.prototype.onKeydown = function (event) {
    // Keys that confirm a Chinese (or other) input method's composition are not ours.
    if (event.isComposing || event.keyCode === 229) { return; }
    var count = this.items.length;
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (!this.isOpen()) {
          // In a text area the arrows move the caret unless the list is open.
          if (this.mentions || !count || !this.enabled()) { return; }
          this.list.hidden = false;
          this.input.setAttribute("aria-expanded", "true");
        }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        var start = this.active < 0 ? (step > 0 ? -1 : count) : this.active;
        this.highlight((start + step + count) % count);
        break;
      case "Enter":
        if (this.isOpen() && this.active >= 0) {
          event.preventDefault();  // choose, do not submit the form yet
          this.choose(this.active);
        }
        break;
      case "Tab":
        // Tab takes the highlighted person in a text area (and leaves a plain field).
        if (this.mentions && this.isOpen() && this.active >= 0) {
          event.preventDefault();
          this.choose(this.active);
        }
        break;
      case "Escape":
        if (this.isOpen()) {
          event.preventDefault();
        }
        this.cancel();
        break;
      default:
        break;
    }
  };

  PeoplePicker.prototype.onPointer = function (event) {
    var option = event.target.closest("[role='option']");
    if (!option) { return; }
    event.preventDefault();
    this.choose(Number(option.getAttribute("data-index")));
  };

  function enhance() {
    document.querySelectorAll("input[data-people], textarea[data-mentions]").forEach(function (input) {
      if (!input.hasAttribute("data-people-ready")) {
        input.setAttribute("data-people-ready", "");
        new PeoplePicker(input);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
  // Pages htmx swaps in (e.g. the board after a move) get their fields enhanced too.
  document.addEventListener("htmx:afterSettle", enhance);
})();
