// Small behaviours shared by every page. No framework, no build step.
"use strict";

const Vanguard = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  const KEYWORDS = /\b(SELECT|FROM|WHERE|AND|OR|NOT|GROUP|BY|ORDER|LIMIT|AS|ON|JOIN|LEFT|INNER|CASE|WHEN|THEN|ELSE|END|IN|IS|NULL|DESC|ASC|NULLS|LAST|FIRST|HAVING|WITH|DISTINCT|COUNT|SUM|AVG|MIN|MAX|BETWEEN|LIKE|ILIKE|INTERVAL|CURRENT_DATE|TRUE|FALSE|COALESCE|OVER|PARTITION)\b/gi;

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  // Strings, numbers and keywords get a class each; the text itself is escaped first.
  function highlightSql(sql) {
    const parts = String(sql).split(/('(?:[^']|'')*')/);
    return parts.map((part, i) => {
      if (i % 2 === 1) return `<span class="str">${escapeHtml(part)}</span>`;
      return escapeHtml(part)
        .replace(KEYWORDS, (k) => `<span class="kw">${k}</span>`)
        .replace(/\b(\d+(?:\.\d+)?)\b/g, '<span class="num">$1</span>');
    }).join("");
  }

  function init() {
    document.querySelectorAll("code[data-highlight]").forEach((el) => { el.innerHTML = highlightSql(el.textContent); });
    const switcher = document.querySelector("[data-switch-org]");
    if (switcher) {
      switcher.addEventListener("change", () => {
        const path = switcher.dataset.path;
        const current = "/o/" + encodeURIComponent(switcher.dataset.org) + "/";
        const section = path.startsWith(current) ? path.slice(current.length).split("/")[0] : "chat";
        const keep = ["chat", "records", "timeline", "matrix", "kpis", "review", "admin"].includes(section) ? section : "chat";
        window.location.href = "/o/" + encodeURIComponent(switcher.value) + "/" + (keep === "admin" ? "admin/audit" : keep);
      });
    }
    document.querySelectorAll("[data-back]").forEach((a) => a.addEventListener("click", (e) => {
      if (history.length > 1) { e.preventDefault(); history.back(); }
    }));
    document.querySelectorAll("[data-select-all]").forEach((box) => box.addEventListener("change", () => {
      box.closest("form").querySelectorAll('input[name="record_id"]').forEach((b) => { b.checked = box.checked; });
    }));
    // Filters left empty are not sent: "any" is the absence of the parameter, as in the API.
    document.querySelectorAll("form[data-drop-empty]").forEach((form) => form.addEventListener("submit", () => {
      form.querySelectorAll("input, select").forEach((field) => { if (field.name && field.value === "") field.disabled = true; });
    }));
    const refresh = document.querySelector("[data-autorefresh]");
    if (refresh) setTimeout(() => window.location.reload(), Number(refresh.dataset.autorefresh) * 1000);
  }

  document.addEventListener("DOMContentLoaded", init);
  return {csrf, escapeHtml, highlightSql};
})();
