// The records grid: a column chooser remembered in this browser, and value pickers that offer the
// organization's own values. Sorting, filtering and paging are the server's; without this script
// the grid still sorts, filters and exports.
"use strict";

(() => {
  const STORE = "vanguard.records.columns";
  const MAX_OPTIONS = 50;

  function storedColumns() {
    try {
      const value = JSON.parse(localStorage.getItem(STORE));
      return Array.isArray(value) ? value : null;
    } catch (e) {
      return null;
    }
  }

  // Shows the checked columns, hides the others, and makes the export carry the columns shown.
  function applyColumns(toggles) {
    const shown = [];
    toggles.forEach((box) => {
      const cells = document.querySelectorAll(`#records [data-col="${CSS.escape(box.value)}"]`);
      cells.forEach((cell) => { cell.hidden = !box.checked; });
      if (box.checked) shown.push(box.value);
    });
    const link = document.getElementById("export-csv");
    if (link) {
      const url = new URL(link.href, window.location.href);
      url.searchParams.delete("columns");
      shown.forEach((column) => url.searchParams.append("columns", column));
      link.href = url.pathname + url.search;
    }
  }

  function initChooser() {
    const toggles = Array.from(document.querySelectorAll("[data-column-toggle]"));
    if (!toggles.length) return;
    const stored = storedColumns();
    if (stored) toggles.forEach((box) => { box.checked = box.disabled || stored.includes(box.value); });
    applyColumns(toggles);
    toggles.forEach((box) => box.addEventListener("change", () => {
      localStorage.setItem(STORE, JSON.stringify(toggles.filter((b) => b.checked).map((b) => b.value)));
      applyColumns(toggles);
    }));
    const reset = document.querySelector("[data-columns-reset]");
    if (reset) reset.addEventListener("click", () => {
      localStorage.removeItem(STORE);
      toggles.forEach((box) => { box.checked = box.defaultChecked; });
      applyColumns(toggles);
    });
  }

  // One combobox (ARIA 1.2 list autocomplete): the values load once, on first use, and are matched
  // in any case anywhere in the value ("cranes" offers Cranes).
  function initPicker(root, org) {
    const input = root.querySelector("input");
    const list = root.querySelector("[role=listbox]");
    const field = root.dataset.picker;
    let values = null;
    let loading = null;
    let active = -1;

    const load = () => {
      if (loading) return loading;
      loading = fetch(`/api/pfa/${encodeURIComponent(org)}/values/${encodeURIComponent(field)}`,
                      {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => (response.ok ? response.json() : {values: []}))
        .then((body) => { values = body.values || []; })
        .catch(() => { values = []; });
      return loading;
    };

    const options = () => Array.from(list.querySelectorAll("[role=option]"));

    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };

    const highlight = (index) => {
      const items = options();
      items.forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };

    const choose = (value) => {
      input.value = value;
      close();
      input.focus();
    };

    const render = () => {
      if (values === null) return;
      const typed = input.value.trim();
      const needle = typed.toLocaleLowerCase();
      const matches = values.filter((v) => v.toLocaleLowerCase().includes(needle));
      list.replaceChildren();
      if (!matches.length || matches.includes(typed)) { close(); return; }
      matches.slice(0, MAX_OPTIONS).forEach((value, i) => {
        const item = document.createElement("li");
        item.id = `${list.id}-${i}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = value;
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(value); });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    };

    input.addEventListener("focus", () => { load().then(() => { if (document.activeElement === input) render(); }); });
    input.addEventListener("input", () => { load().then(render); });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", (event) => {
      const items = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { load().then(render); return; }
        highlight(Math.min(active + 1, items.length - 1));
      } else if (event.key === "ArrowUp" && !list.hidden) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();  // picks the value; a second Enter applies the filters
        choose(items[active].textContent);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
  }

  function init() {
    initChooser();
    const form = document.querySelector("form.filters[data-org]");
    if (form) form.querySelectorAll("[data-picker]").forEach((root) => initPicker(root, form.dataset.org));
  }

  document.addEventListener("DOMContentLoaded", init);
})();
