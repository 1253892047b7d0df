// The chat page: a question goes to the SSE endpoint, and the answer is drawn as its events arrive.
"use strict";

(() => {
  const root = document.querySelector("[data-chat]");
  if (!root) return;
  const org = root.dataset.org;
  const form = document.getElementById("ask-form");
  const box = document.getElementById("question");
  const button = document.getElementById("ask-button");
  const stopButton = document.getElementById("stop-button");
  let running = null;  // the AbortController of the answer being streamed
  const formError = document.getElementById("ask-error");
  const answers = document.getElementById("answers");
  const historyList = document.getElementById("history");
  const historyEmpty = document.getElementById("history-empty");
  const storeKey = "vanguard-chat-" + org;
  const STAGES = {writing_sql: "Writing the SQL…", explaining: "Explaining…", running: "Running the query…",
                  repairing: "The first statement was refused; asking for a corrected one…",
                  planning: "Planning the edit…", matching: "Finding the matching records…",
                  proposing: "Preparing the proposal…"};

  function loadHistory() {
    try { return JSON.parse(sessionStorage.getItem(storeKey)) || []; } catch (e) { return []; }
  }

  function saveHistory(items) { sessionStorage.setItem(storeKey, JSON.stringify(items.slice(-50))); }

  function drawHistory() {
    const items = loadHistory();
    historyList.replaceChildren(...items.slice().reverse().map((item) => {
      const li = document.createElement("li");
      const again = document.createElement("button");
      again.type = "button";
      again.className = "link";
      again.textContent = item.question;
      again.title = "Ask again";
      again.addEventListener("click", () => { box.value = item.question; box.focus(); });
      const note = document.createElement("span");
      note.className = "muted";
      note.textContent = " " + item.note;
      li.append(again, note);
      return li;
    }));
    historyEmpty.hidden = items.length > 0;
  }

  function remember(question, note) {
    const items = loadHistory();
    items.push({question, note});
    saveHistory(items);
    drawHistory();
  }

  // Server-Sent Events over a POST body: split the stream into events by blank lines.
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (data) yield {name, data: JSON.parse(data)};
      }
    }
  }

  // Data of any size is text, not layout: a long value is cut short in its cell, whole on hover.
  const CLIP_AT = 40;
  function fillCell(td, text) {
    if (text.length <= CLIP_AT) { td.textContent = text; return; }
    const span = document.createElement("span");
    span.className = "clip";
    span.title = text;
    span.textContent = text;
    td.append(span);
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString() : value.toLocaleString(undefined, {maximumFractionDigits: 2});
    return String(value);
  }

  function newAnswer(question) {
    const node = document.getElementById("answer-template").content.firstElementChild.cloneNode(true);
    node.querySelector(".q").textContent = question;
    answers.prepend(node);
    const part = (sel) => node.querySelector(sel);
    return {node, part, stage: part("[data-stage]"), columns: [], rows: []};
  }

  function showError(answer, data) {
    const el = answer.part(".error");
    el.hidden = false;
    const reasons = (data.reasons || []).map((r) => r.message || r.code).filter(Boolean);
    el.textContent = (data.message || "The request failed.") + (reasons.length ? " — " + reasons.join("; ") : "");
    answer.stage.textContent = "Stopped.";
  }

  function addRows(answer, rows) {
    const body = answer.part("tbody");
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement("tr");
      row.forEach((value) => {
        const td = document.createElement("td");
        fillCell(td, cellText(value));
        if (typeof value === "number") td.className = "num";
        tr.append(td);
      });
      fragment.append(tr);
      answer.rows.push(row);
    }
    body.append(fragment);
    answer.stage.textContent = `Receiving rows… ${answer.rows.length.toLocaleString()} so far`;
  }

  function setColumns(answer, columns) {
    answer.columns = columns;
    const tr = document.createElement("tr");
    columns.forEach((c) => { const th = document.createElement("th"); th.scope = "col"; th.textContent = c; tr.append(th); });
    answer.part("thead").replaceChildren(tr);
    answer.part(".table-wrap").hidden = false;
  }

  function showBulk(answer, data) {
    const box = answer.part(".bulk");
    box.hidden = false;
    const skipped = (data.skipped || []).length;
    const head = document.createElement("p");
    head.textContent = `${data.matched.toLocaleString()} records matched; ${data.proposed.toLocaleString()} changes proposed` +
      (skipped ? `, ${skipped} skipped` : "") + ". Nothing is changed until you review and accept.";
    box.append(head);
    if (data.preview && data.preview.length) {
      const table = document.createElement("table");
      table.className = "grid";
      table.innerHTML = "<thead><tr><th scope=col>Record</th><th scope=col>Field</th><th scope=col>Before</th><th scope=col>After</th></tr></thead>";
      const body = document.createElement("tbody");
      for (const item of data.preview) {
        for (const [field, after] of Object.entries(item.after)) {
          const tr = document.createElement("tr");
          [item.record_id, field, cellText((item.before || {})[field]), cellText(after)].forEach((v) => {
            const td = document.createElement("td"); fillCell(td, v); tr.append(td);
          });
          body.append(tr);
        }
      }
      table.append(body);
      box.append(table);
    }
    if (data.change_set_id) {
      const link = document.createElement("a");
      link.href = `/o/${encodeURIComponent(org)}/review/${data.change_set_id}`;
      link.className = "button primary";
      link.textContent = `Review change set ${data.change_set_id}`;
      box.append(link);
    }
  }

  // Grounding: the service matched the question's words to stored values, and says which.
  function showGrounding(answer, items) {
    const el = answer.part(".grounding");
    el.hidden = false;
    el.textContent = "Matched to stored values: " +
      items.map((g) => `'${g.from}' → ${g.column} '${g.to}'`).join("; ") + ".";
  }

  // A clarification: one button per stored value; choosing re-runs the question with it bound.
  function showClarify(answer, data, question, bindings) {
    const box = answer.part(".clarify");
    box.hidden = false;
    const head = document.createElement("p");
    head.textContent = data.message;
    box.append(head);
    for (const item of data.items || []) {
      const row = document.createElement("div");
      row.className = "choices";
      row.setAttribute("aria-label", `Values of ${item.column} for '${item.from}'`);
      for (const choice of item.choices) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = choice;
        b.title = `Run the question with ${item.column} = '${choice}'`;
        b.addEventListener("click", () => {
          box.querySelectorAll("button").forEach((x) => { x.disabled = true; });
          const chosen = bindings.filter((x) => !(x.column === item.column && x.from === item.from));
          ask(question, "query", undefined, [...chosen, {column: item.column, from: item.from, to: choice}]);
        });
        row.append(b);
      }
      box.append(row);
    }
    answer.stage.textContent = "Waiting for your choice.";
  }

  // `replayed`: a stored answer's events (nlq/web/static/conversations.js), drawn like a live one;
  // `bindings`: the user's choices of a clarification, re-run with the question.
  async function ask(question, mode, replayed, bindings = []) {
    const answer = newAnswer(question);
    answer.stage.textContent = "Sending…";
    const sqlBox = answer.part(".sql-box");
    answer.part(".copy").addEventListener("click", async (e) => {
      await navigator.clipboard.writeText(answer.part(".sql").textContent);
      e.target.textContent = "Copied";
      setTimeout(() => { e.target.textContent = "Copy SQL"; }, 1500);
    });
    let note = "no answer";
    const controller = new AbortController();
    running = controller;
    try {
      const conversation = window.VanguardConversations;
      // Stop aborts the request: the server sees the client go away and cancels the model call
      // and the running statement.
      const response = replayed || await fetch(mode === "bulk" ? "/api/ai/bulk" : "/api/ai/query", {
        method: "POST", credentials: "same-origin", signal: controller.signal,
        headers: {"Content-Type": "application/json", "Accept": "text/event-stream", "X-CSRF-Token": Vanguard.csrf()},
        body: JSON.stringify(mode === "bulk" ? {org_id: org, request: question}
          : {org_id: org, question, ...(bindings.length ? {bindings} : {}),
             ...(conversation ? conversation.fields() : {})}),
      });
      if (response.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); return; }
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        showError(answer, (body && body.error) || {message: `The service answered ${response.status}.`});
        note = "failed";
        return;
      }
      for await (const {name, data} of events(response)) {
        if (conversation && !replayed) conversation.observe(name, data);
        if (name === "status") answer.stage.textContent = STAGES[data.stage] || data.stage;
        else if (name === "sql" || name === "plan") {
          answer.part(".sql").innerHTML = Vanguard.highlightSql(data.sql || data.target || "");
          sqlBox.hidden = false;
        } else if (name === "grounding") {
          showGrounding(answer, data);
        } else if (name === "clarify") {
          showClarify(answer, data, question, bindings);
          note = "asked which value";
        } else if (name === "explanation") {
          const el = answer.part(".explanation");
          el.hidden = false;
          el.textContent += data.delta;
        } else if (name === "notice") {
          const el = answer.part(".explanation");
          el.hidden = false;
          el.textContent += (el.textContent ? "\n\n" : "") + data.message;
        } else if (name === "rows") {
          if (data.columns) setColumns(answer, data.columns);
          if (data.rows) addRows(answer, data.rows);
        } else if (name === "summary") {
          const summary = answer.part(".summary");
          summary.hidden = false;
          if (mode === "bulk") {
            showBulk(answer, data);
            note = `${data.proposed} proposed`;
          } else {
            summary.textContent = `${data.row_count.toLocaleString()} row${data.row_count === 1 ? "" : "s"}`;
            if (data.truncated) {
              const t = document.createElement("strong");
              t.className = "truncated";
              t.textContent = ` — the first ${data.row_count.toLocaleString()} of more: narrow the question or ask for totals to see the rest.`;
              summary.append(t);
            }
            // Sorting, CSV and the chart (answer_table.js, answer_chart.js) work on the rows received.
            VanguardAnswerTable.attach(answer, question, data);
            VanguardAnswerChart.draw(answer.part(".chart"), answer.columns, answer.rows, question);
            note = `${data.row_count} row${data.row_count === 1 ? "" : "s"}`;
            if (window.VanguardRating) VanguardRating.attach(answer.node, org, data.audit_id);
          }
          answer.stage.textContent = "Done.";
        } else if (name === "error") {
          showError(answer, data);
          note = "refused";
        } else if (name === "declined") {
          const el = answer.part(".declined");
          el.hidden = false;
          el.textContent = data.message + (data.reason ? " " + data.reason : "");
          answer.stage.textContent = "Declined.";
          note = "declined";
        } else if (name === "fallback") {
          const el = answer.part(".fallback");
          el.hidden = false;
          el.textContent = data.message;
        }
      }
    } catch (err) {
      if (controller.signal.aborted) {
        answer.stage.textContent = "Stopped: the question and its query were cancelled.";
        note = "stopped";
      } else {
        showError(answer, {message: "The connection was interrupted: " + err.message});
        note = "interrupted";
      }
    } finally {
      if (running === controller) running = null;
      if (!replayed) remember(question, note);
    }
  }

  stopButton.addEventListener("click", () => { if (running) running.abort(); });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const question = box.value.trim();
    formError.hidden = true;
    if (!question) {
      formError.textContent = "Type a question first.";
      formError.hidden = false;
      box.focus();
      return;
    }
    const mode = (form.querySelector('input[name="mode"]:checked') || {value: "query"}).value;
    button.disabled = true;
    stopButton.hidden = false;
    box.value = "";
    try { await ask(question, mode); } finally { button.disabled = false; stopButton.hidden = true; box.focus(); }
  });

  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  drawHistory();
  window.VanguardChat = {replay: (question, response) => ask(question, "query", response),
                         clear: () => answers.replaceChildren()};
})();
