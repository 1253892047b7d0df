// The chat's conversations: list the user's own, reopen one (its answers redrawn from the stored
// rows), continue it, rename or delete it. The open conversation is in the address (?c=<id>),
// so a reload reopens it with every answer.
"use strict";

(() => {
  const root = document.querySelector("[data-chat]");
  if (!root || !window.VanguardChat) return;
  const org = root.dataset.org;
  const list = document.getElementById("conversations");
  const empty = document.getElementById("conversations-empty");
  const fresh = document.getElementById("new-conversation");
  const heading = document.getElementById("conversation-title");
  let current = new URLSearchParams(location.search).get("c");

  const api = (path, options = {}) => fetch(path, {credentials: "same-origin", ...options,
    headers: {"Accept": "application/json", "X-CSRF-Token": Vanguard.csrf(), ...(options.headers || {})}});
  const orgQuery = "org_id=" + encodeURIComponent(org);

  function setCurrent(id, title) {
    current = id;
    const url = new URL(location.href);
    if (id) url.searchParams.set("c", id); else url.searchParams.delete("c");
    history.replaceState(null, "", url);
    heading.textContent = id ? (title || "") : "New conversation";
  }

  async function refresh() {
    const response = await api(`/api/ai/conversations?${orgQuery}`);
    if (!response.ok) return;
    const {items} = await response.json();
    list.replaceChildren(...items.map((c) => {
      const li = document.createElement("li");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "link conversation-open";
      open.textContent = c.title;
      open.title = `${c.turn_count} question${c.turn_count === 1 ? "" : "s"}` + (c.last_question ? ` — last: ${c.last_question}` : "");
      if (c.id === current) { open.setAttribute("aria-current", "true"); heading.textContent = c.title; }
      open.addEventListener("click", () => reopen(c.id));
      const rename = document.createElement("button");
      rename.type = "button";
      rename.className = "link muted";
      rename.textContent = "Rename";
      rename.setAttribute("aria-label", `Rename ${c.title}`);
      rename.addEventListener("click", () => renameConversation(c));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link muted";
      remove.textContent = "Delete";
      remove.setAttribute("aria-label", `Delete ${c.title}`);
      remove.addEventListener("click", () => deleteConversation(c));
      li.append(open, " ", rename, " ", remove);
      return li;
    }));
    empty.hidden = items.length > 0;
  }

  function streamOf(events) {
    const text = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join("");
    return new Response(text, {headers: {"Content-Type": "text/event-stream"}});
  }

  async function reopen(id) {
    const response = await api(`/api/ai/conversations/${encodeURIComponent(id)}?${orgQuery}`);
    if (!response.ok) { setCurrent(null); await refresh(); return; }
    const conversation = await response.json();
    VanguardChat.clear();
    setCurrent(conversation.id, conversation.title);
    for (const turn of conversation.turns) {  // oldest first: each answer goes on top, as when asked
      await VanguardChat.replay(turn.question, streamOf(turn.events));
      const answer = document.querySelector("#answers .answer");
      answer.dataset.turn = turn.id;
      if (turn.rows_cut) {
        const note = document.createElement("span");
        note.className = "muted kept";
        note.textContent = ` — the first ${turn.rows_kept.toLocaleString()} rows are kept with the conversation; ask again to see them all.`;
        answer.querySelector(".summary").append(note);
        VanguardAnswerTable.noteKept(answer, turn.rows_kept);
      }
    }
    await refresh();
  }

  async function renameConversation(c) {
    const title = (window.prompt("New name for the conversation", c.title) || "").trim();
    if (!title) return;
    await api(`/api/ai/conversations/${encodeURIComponent(c.id)}`, {method: "PATCH",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({org_id: org, title: title.slice(0, 120)})});
    await refresh();
  }

  async function deleteConversation(c) {
    if (!window.confirm(`Delete “${c.title}” and its answers?`)) return;
    await api(`/api/ai/conversations/${encodeURIComponent(c.id)}?${orgQuery}`, {method: "DELETE"});
    if (c.id === current) { VanguardChat.clear(); setCurrent(null); }
    await refresh();
  }

  window.VanguardConversations = {
    fields: () => (current ? {conversation_id: current} : {}),
    observe(name, data) {
      if (data && data.conversation) {
        setCurrent(data.conversation.id, data.conversation.title);
        refresh();
      }
    },
  };

  fresh.addEventListener("click", () => { VanguardChat.clear(); setCurrent(null); refresh(); document.getElementById("question").focus(); });
  if (current) reopen(current); else refresh();
})();
