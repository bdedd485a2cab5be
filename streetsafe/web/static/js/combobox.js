// An editable combobox with a list of suggestions, as ARIA 1.2 describes it (the pattern of
// GOV.UK's accessible-autocomplete): the input has role="combobox", aria-expanded,
// aria-controls and aria-activedescendant; the suggestions are a role="listbox" of
// role="option" items. Typing asks `suggest(text)` for options (debounced; an older answer
// never replaces a newer one); Down and Up move through them, Enter or a click chooses one,
// Escape closes the list. Focus stays in the input all along, as the pattern says.

import { t, tn } from "./i18n.js";

export function createCombobox(input, listbox, { suggest, choose, describe, announce, waitMs = 250 }) {
  let options = [];
  let active = -1;
  let seq = 0;
  let timer = null;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);
  listbox.setAttribute("role", "listbox");
  listbox.hidden = true;

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    listbox.querySelectorAll("[role=option]").forEach((node, i) => {
      node.setAttribute("aria-selected", String(i === index));
    });
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    const node = listbox.children[index];
    input.setAttribute("aria-activedescendant", node.id);
    node.scrollIntoView({ block: "nearest" });
  }

  function render(items) {
    options = items;
    listbox.replaceChildren();
    items.forEach((item, index) => {
      const node = document.createElement("li");
      node.id = `${listbox.id}-${index}`;
      node.setAttribute("role", "option");
      node.setAttribute("aria-selected", "false");
      const { title, detail } = describe(item);
      const strong = document.createElement("span");
      strong.className = "choice-title";
      strong.textContent = title;
      node.append(strong);
      if (detail) {
        const small = document.createElement("span");
        small.className = "choice-detail";
        small.textContent = detail;
        node.append(small);
      }
      // mousedown, not click: the input keeps focus, and the choice lands before blur.
      node.addEventListener("mousedown", (event) => {
        event.preventDefault();
        pick(index);
      });
      listbox.append(node);
    });
    listbox.hidden = items.length === 0;
    input.setAttribute("aria-expanded", String(items.length > 0));
    highlight(-1);
  }

  function pick(index) {
    const item = options[index];
    if (!item) return;
    input.value = describe(item).title;
    close();
    choose(item);
  }

  async function lookup() {
    const text = input.value.trim();
    const mine = ++seq;
    if (!text) {
      render([]);
      announce("");
      return;
    }
    let items;
    try {
      items = await suggest(text);
    } catch (error) {
      if (mine === seq) {
        render([]);
        announce(error.message);
      }
      return;
    }
    if (mine !== seq) return;
    render(items);
    announce(
      items.length === 0
        ? t("No matches.")
        : tn("{n} suggestion. Use the up and down arrows to review them.",
          "{n} suggestions. Use the up and down arrows to review them.", items.length),
    );
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, waitMs);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      if (listbox.hidden) render(options);
      highlight(Math.min(active + 1, options.length - 1));
    } else if (event.key === "ArrowUp" && options.length && !listbox.hidden) {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && !listbox.hidden && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape" && !listbox.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);
  return { close, lookup };
}
