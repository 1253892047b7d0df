// A chat answer's result table: sorted by a click on a header, downloaded as CSV. Both work on the
// rows the answer carries (the ones shown), so no question is run again.
"use strict";

window.VanguardAnswerTable = (() => {
  // Nulls go last in either direction; numbers compare as numbers, text as people read it
  // ("Silo 10" after "Silo 9"), and a number comes before text in a column that mixes them.
  const text = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  function compareValues(a, b) {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return text.compare(String(a), String(b));
  }

  function sortedOrder(rows, column, direction) {
    const sign = direction === "descending" ? -1 : 1;
    return rows.map((_, i) => i).sort((i, j) => {
      const a = rows[i][column], b = rows[j][column];
      const aNull = a === null || a === undefined, bNull = b === null || b === undefined;
      if (aNull || bNull) return aNull === bNull ? i - j : (aNull ? 1 : -1);
      return sign * compareValues(a, b) || i - j;  // stable: equal values keep their order
    });
  }

  // What nlq/csv_export.py's safe_cell writes: text a spreadsheet would run as a formula gets a
  // leading quote; numbers stay numbers (a negative amount is no formula).
  const FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"];
  function safeCell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "number") return String(value);
    const cell = typeof value === "object" ? JSON.stringify(value) : String(value);
    return FORMULA_STARTS.some((c) => cell.startsWith(c)) ? "'" + cell : cell;
  }

  // RFC 4180 as Python's csv module writes it: quoted when it holds a comma, quote or line break.
  function csvField(cell) {
    return /[",\r\n]/.test(cell) ? '"' + cell.replace(/"/g, '""') + '"' : cell;
  }

  function toCsv(columns, rows) {
    const line = (row) => (row.length === 1 && safeCell(row[0]) === "" ? '""' : row.map((v) => csvField(safeCell(v))).join(","));
    return [columns, ...rows].map((row) => line(row) + "\r\n").join("");  // a lone empty cell is "", as Python writes it
  }

  function fileName(question, ext) {
    const slug = String(question || "answer").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
    return (slug || "answer") + "." + ext;
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // Headers become sort buttons once every row is in (a sort while rows stream would be undone by
  // the next batch). `answer` is chat.js's answer: its node, columns and rows (the table's order).
  function makeSortable(answer) {
    const table = answer.node.querySelector("table.result");
    const body = table.tBodies[0];
    const trs = Array.from(body.rows);  // one per answer row, in the order received
    if (trs.length !== answer.rows.length || answer.rows.length < 2) return;
    const heads = Array.from(table.tHead.rows[0].cells);
    heads.forEach((th, column) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent;
      button.title = `Sort by ${th.textContent}`;
      th.replaceChildren(button);
      button.addEventListener("click", () => {
        const direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        heads.forEach((other) => other.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", direction);
        const order = sortedOrder(answer.rows, column, direction);
        body.append(...order.map((i) => trs[i]));
        answer.shown = order.map((i) => answer.rows[i]);
      });
    });
  }

  // The CSV button and what it holds: the columns and rows shown, in the order shown, and a word
  // when those are not the whole answer (cut at the row cap, or kept in part with a conversation).
  function addDownloads(answer, question, summary) {
    const tools = answer.node.querySelector(".answer-tools");
    const csv = document.createElement("button");
    csv.type = "button";
    csv.className = "download-csv";
    csv.textContent = "Download CSV";
    csv.addEventListener("click", () => {
      const blob = new Blob([toCsv(answer.columns, answer.shown || answer.rows)], {type: "text/csv;charset=utf-8"});
      download(blob, fileName(question, "csv"));
    });
    const note = document.createElement("span");
    note.className = "csv-note muted";
    if (summary && summary.truncated) {
      note.textContent = `The CSV holds the ${answer.rows.length.toLocaleString()} rows shown: the answer was cut at the row cap.`;
    }
    tools.append(csv, note);
    tools.hidden = false;
  }

  // A reopened answer whose rows were kept only in part (conversations.js).
  function noteKept(node, kept) {
    const note = node.querySelector(".csv-note");
    if (note) note.textContent = `The CSV holds the ${kept.toLocaleString()} rows kept with the conversation, not the whole answer.`;
  }

  function attach(answer, question, summary) {
    if (!answer.columns.length) return;
    makeSortable(answer);
    addDownloads(answer, question, summary);
  }

  return {attach, noteKept, toCsv, sortedOrder, fileName, download};
})();
