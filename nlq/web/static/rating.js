// Rating an answer in the chat: up or down, one rating per answer (choosing again replaces it).
"use strict";

window.VanguardRating = (() => {
  const LABELS = {up: "Rate this answer up (right)", down: "Rate this answer down (wrong)"};

  // Buttons under an answer; `auditId` is the answer's audit entry (the summary event's audit_id).
  function attach(node, org, auditId) {
    if (!auditId || node.querySelector(".rating")) return;
    const box = document.createElement("div");
    box.className = "rating";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Rate this answer");
    const text = document.createElement("span");
    text.textContent = "Was this answer right?";
    const note = document.createElement("span");
    note.className = "rating-note";
    note.setAttribute("role", "status");
    const buttons = {};
    for (const value of ["up", "down"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.rating = value;
      b.textContent = value === "up" ? "👍 Yes" : "👎 No";
      b.setAttribute("aria-label", LABELS[value]);
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => rate(value));
      buttons[value] = b;
    }
    async function rate(value) {
      note.textContent = "Saving…";
      try {
        const response = await fetch(`/api/pfa/${encodeURIComponent(org)}/answers/${auditId}/rating`, {
          method: "PUT", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": Vanguard.csrf()},
          body: JSON.stringify({rating: value}),
        });
        if (!response.ok) {
          const body = await response.json().catch(() => ({}));
          note.textContent = ((body && body.error && body.error.message) || `The service answered ${response.status}.`);
          return;
        }
        for (const [v, b] of Object.entries(buttons)) b.setAttribute("aria-pressed", String(v === value));
        note.textContent = value === "up" ? "Thanks: rated up." : "Thanks: rated down. An admin will review it.";
      } catch (err) {
        note.textContent = "The rating was not saved: " + err.message;
      }
    }
    box.append(text, buttons.up, buttons.down, note);
    node.append(box);
  }

  return {attach};
})();
