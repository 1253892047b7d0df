// The timeline page: plan / forecast / actual bars in SVG, no library. Rows come from
// GET /api/pfa/{org}/timeline/bars a page at a time and only the rows in view are in the DOM,
// so an organization of 50,000 records scrolls like one of 50. A shifted forecast (drag, or the
// form for keyboard users) is saved through the drafts API, which applies the draft rules.
"use strict";

(() => {
  const root = document.getElementById("timeline");
  if (!root) return;
  const SVG = "http://www.w3.org/2000/svg";
  const ROW_H = 30, HEAD_H = 34, LABEL_W = 260, PAGE = 100, OVERSCAN = 8;
  const PX_PER_DAY = {month: 4, quarter: 1.5, year: 0.45};
  const DAY = 86400000;
  const org = root.dataset.org;
  const canEdit = root.dataset.canEdit === "true";
  const seesCosts = root.dataset.seesCosts === "true";
  const scroller = root.querySelector(".tl-scroll");
  const canvas = root.querySelector(".tl-canvas");
  const axis = root.querySelector(".tl-axis");
  const rowsBox = root.querySelector(".tl-rows");
  const status = document.getElementById("tl-status");
  const form = document.getElementById("tl-shift");
  const api = "/api/pfa/" + encodeURIComponent(org);
  const FILTERS = ["category", "class", "source", "dor", "area", "is_actualized", "is_discontinued", "has_draft",
                   "forecast_from", "forecast_to", "q"];

  const state = {zoom: root.dataset.zoom, group: root.dataset.group, entries: [], byId: new Map(), cursor: null,
                 done: false, loading: false, start: null, end: null, today: null, lastGroup: undefined};

  // -- dates ---------------------------------------------------------------------------------------
  const parse = (iso) => (iso ? Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) : null);
  const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
  const addDays = (isoDate, days) => iso(parse(isoDate) + days * DAY);
  const px = () => PX_PER_DAY[state.zoom];
  const x = (ms) => Math.round((ms - state.start) / DAY * px());
  const chartWidth = () => x(state.end) + 1;

  function floorTo(ms, unit) {
    const d = new Date(ms);
    const y = d.getUTCFullYear(), m = d.getUTCMonth();
    if (unit === "year") return Date.UTC(y, 0, 1);
    if (unit === "quarter") return Date.UTC(y, m - (m % 3), 1);
    return Date.UTC(y, m, 1);
  }

  function nextTick(ms, unit) {
    const d = new Date(ms);
    const step = unit === "year" ? 12 : unit === "quarter" ? 3 : 1;
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step, 1);
  }

  function tickLabel(ms, unit) {
    const d = new Date(ms);
    if (unit === "year") return String(d.getUTCFullYear());
    if (unit === "quarter") return "Q" + (Math.floor(d.getUTCMonth() / 3) + 1) + " " + d.getUTCFullYear();
    return d.toLocaleString("en", {month: "short", timeZone: "UTC"}) + " " + d.getUTCFullYear();
  }

  // The axis covers every date of the rows loaded so far and the organization's bounds, in whole units.
  function widen(dates) {
    const known = dates.filter(Boolean).map(parse);
    if (!known.length) return false;
    const lo = floorTo(Math.min(...known), state.zoom), hi = nextTick(floorTo(Math.max(...known), state.zoom), state.zoom);
    let changed = false;
    if (state.start === null || lo < state.start) { state.start = lo; changed = true; }
    if (state.end === null || hi > state.end) { state.end = hi; changed = true; }
    return changed;
  }

  function rowDates(r) {
    const pems = r.pems || {};
    return [r.plan_start, r.plan_end, r.forecast_start, r.forecast_end, r.actual_start, r.actual_end,
            pems.forecast_start, pems.forecast_end];
  }

  function rescale() {
    const all = [state.today];
    if (state.bounds) all.push(...Object.values(state.bounds));
    state.entries.forEach((e) => { if (e.record) all.push(...rowDates(e.record)); });
    state.start = state.end = null;
    widen(all);
  }

  // -- drawing ---------------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function drawAxis() {
    axis.textContent = "";
    const width = chartWidth();
    const corner = document.createElement("div");
    corner.className = "tl-corner";
    corner.textContent = state.group === "area" ? "area / record" : "category / record";
    axis.appendChild(corner);
    const svg = el("svg", {width, height: HEAD_H, class: "tl-axis-svg"}, axis);
    for (let t = state.start; t < state.end; t = nextTick(t, state.zoom)) {
      el("line", {x1: x(t), x2: x(t), y1: 0, y2: HEAD_H, class: "tick"}, svg);
      el("text", {x: x(t) + 4, y: HEAD_H - 11, class: "tick-label"}, svg).textContent = tickLabel(t, state.zoom);
    }
    if (state.today) {
      el("text", {x: x(parse(state.today)) + 3, y: 11, class: "today-label"}, svg).textContent = "today";
    }
    canvas.style.width = axis.style.width = (LABEL_W + width) + "px";
  }

  function bar(svg, cls, from, to, y, h, title) {
    if (!from) return null;
    const x1 = x(parse(from)), x2 = x(parse(to || from) + DAY);
    const rect = el("rect", {x: x1, y, width: Math.max(2, x2 - x1), height: h, rx: 2, class: cls}, svg);
    if (title) el("title", {}, rect).textContent = title;
    return rect;
  }

  const money = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("en", {maximumFractionDigits: 0}));

  function forecastTitle(r) {
    let text = `Forecast ${r.forecast_start || "?"} to ${r.forecast_end || "?"}`;
    if (r.pems) text += ` (your draft; PEMS: ${r.pems.forecast_start || "?"} to ${r.pems.forecast_end || "?"})`;
    if (seesCosts && r.forecast_cost !== undefined) text += `, forecast cost ${money(r.forecast_cost)}`;
    return text;
  }

  function drawRecord(r) {
    const row = document.createElement("div");
    row.className = "tl-row" + (r.has_draft ? " has-draft" : "");
    row.setAttribute("role", "listitem");
    row.dataset.id = r.id;
    const label = document.createElement("div");
    label.className = "tl-label";
    const link = document.createElement("a");
    link.href = `/o/${encodeURIComponent(org)}/records/${encodeURIComponent(r.id)}`;
    link.textContent = r.id;
    label.appendChild(link);
    const cls = document.createElement("span");
    cls.className = "muted tl-class";
    cls.textContent = " " + (r.class || "");
    cls.title = r.class || "";
    label.appendChild(cls);
    if (r.has_draft) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "draft";
      label.appendChild(badge);
    }
    row.appendChild(label);
    const svg = el("svg", {width: chartWidth(), height: ROW_H, class: "tl-chart"});
    if (state.today) el("line", {x1: x(parse(state.today)), x2: x(parse(state.today)), y1: 0, y2: ROW_H, class: "today"}, svg);
    bar(svg, "plan", r.plan_start, r.plan_end, 3, 5, `Plan ${r.plan_start || "?"} to ${r.plan_end || "?"}`);
    if (r.pems) bar(svg, "ghost", r.pems.forecast_start, r.pems.forecast_end, 10, 10, `PEMS forecast ${r.pems.forecast_start} to ${r.pems.forecast_end}`);
    const fc = bar(svg, r.pems ? "forecast drafted" : "forecast", r.forecast_start, r.forecast_end, 10, 10, forecastTitle(r));
    if (r.actual_start) {
      const open = !r.actual_end;
      const a = bar(svg, open ? "actual open" : "actual", r.actual_start, open ? state.today : r.actual_end, 23, 5,
                    open ? `Actual since ${r.actual_start}, still open` : `Actual ${r.actual_start} to ${r.actual_end}`);
      if (a && open) a.dataset.open = "true";
    }
    if (fc) {
      fc.dataset.forecast = r.id;
      if (canEdit) {
        fc.setAttribute("tabindex", "0");
        fc.setAttribute("role", "button");
        fc.setAttribute("aria-label", `${forecastTitle(r)}. Drag to shift, Enter to type dates`);
      }
    }
    row.appendChild(svg);
    if (r.error) {  // beside the bar it is about
      const err = document.createElement("span");
      err.className = "tl-error";
      err.setAttribute("role", "alert");
      err.textContent = r.error;
      err.style.left = (LABEL_W + x(parse(r.forecast_end || r.forecast_start || state.today) + DAY) + 8) + "px";
      row.appendChild(err);
    }
    return row;
  }

  function drawGroup(name) {
    const row = document.createElement("div");
    row.className = "tl-group";
    row.setAttribute("role", "listitem");
    const label = document.createElement("div");
    label.className = "tl-label";
    label.textContent = name === null ? `(no ${state.group})` : name;
    row.appendChild(label);
    return row;
  }

  // Rows are kept while they stay in view, so scrolling sideways (or a bar being dragged) never
  // rebuilds them; a change to a record redraws that row alone, a new scale redraws them all.
  const rendered = new Map();
  let frame = 0;
  function render() {
    frame = 0;
    const total = state.entries.length + (state.done ? 0 : 1);
    canvas.style.height = (HEAD_H + total * ROW_H) + "px";
    const top = Math.max(0, scroller.scrollTop - HEAD_H);
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(state.entries.length, Math.ceil((top + scroller.clientHeight) / ROW_H) + OVERSCAN);
    for (const [i, node] of rendered) {
      if (i < first || i >= last) { node.remove(); rendered.delete(i); }
    }
    for (let i = first; i < last; i++) {
      if (!rendered.has(i)) {
        const node = drawEntry(i);
        rowsBox.appendChild(node);
        rendered.set(i, node);
      }
    }
    focusPending();
    if (!state.done && !state.loading && last >= state.entries.length - OVERSCAN) loadPage();
  }

  function drawEntry(i) {
    const entry = state.entries[i];
    const row = entry.record ? drawRecord(entry.record) : drawGroup(entry.group);
    row.style.top = (HEAD_H + i * ROW_H) + "px";
    return row;
  }

  function redrawAll() {
    rowsBox.textContent = "";
    rendered.clear();
    schedule();
  }

  function redrawRecord(record) {
    for (const [i, node] of rendered) {
      if (node.dataset.id !== record.id) continue;
      const hadFocus = node.contains(document.activeElement);
      const fresh = drawEntry(i);
      node.replaceWith(fresh);
      rendered.set(i, fresh);
      if (hadFocus) {
        const bar = fresh.querySelector("[data-forecast]");
        if (bar) bar.focus({preventScroll: true});
      }
    }
  }

  const schedule = () => { if (!frame) frame = requestAnimationFrame(render); };

  // -- data ------------------------------------------------------------------------------------------
  function query(extra) {
    const params = new URLSearchParams();
    const here = new URLSearchParams(window.location.search);
    for (const name of FILTERS) here.getAll(name).forEach((v) => { if (v) params.append(name, v); });
    for (const [k, v] of Object.entries(extra || {})) if (v !== null && v !== undefined) params.set(k, v);
    return params;
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.error || {message: response.statusText};
    } catch (e) {
      return {message: `${response.status} ${response.statusText}`};
    }
  }

  async function loadPage() {
    state.loading = true;
    status.textContent = state.entries.length ? "Loading more…" : "Loading…";
    try {
      const response = await fetch(`${api}/timeline/bars?` + query({group: state.group, limit: PAGE, cursor: state.cursor}),
                                   {headers: {Accept: "application/json"}});
      if (!response.ok) {
        status.textContent = (await errorText(response)).message;
        status.classList.add("error");
        state.done = true;
        return;
      }
      const body = await response.json();
      let rescaled = false;
      if (body.bounds) {
        state.bounds = body.bounds;
        state.today = body.today;
      }
      for (const r of body.items) {
        if (r.group !== state.lastGroup) {
          state.entries.push({group: r.group});
          state.lastGroup = r.group;
        }
        state.entries.push({record: r});
        state.byId.set(r.id, r);
      }
      const first = state.start === null;
      const all = [state.today, ...Object.values(state.bounds || {})];
      body.items.forEach((r) => all.push(...rowDates(r)));
      rescaled = widen(all);
      state.cursor = body.next_cursor;
      state.done = !body.next_cursor;
      if (rescaled) { drawAxis(); redrawAll(); }
      const loaded = state.entries.filter((e) => e.record).length;
      status.textContent = loaded ? `${loaded.toLocaleString("en")} records loaded${state.done ? "" : "; scroll for more"}.`
                                  : "No records match these filters.";
      if (first && state.today) scroller.scrollLeft = Math.max(0, x(parse(state.today)) - scroller.clientWidth / 3);
    } catch (e) {
      status.textContent = "The timeline could not be loaded; reload the page to try again.";
      state.done = true;
    } finally {
      state.loading = false;
    }
    schedule();
  }

  async function loadCount() {
    const response = await fetch(`${api}/count?` + query(), {headers: {Accept: "application/json"}});
    if (response.ok) {
      const {count} = await response.json();
      document.getElementById("tl-count").textContent = `${count.toLocaleString("en")} record${count === 1 ? "" : "s"}`;
    }
  }

  // -- shifting a forecast ---------------------------------------------------------------------------
  async function save(record, start, end) {
    record.error = null;
    const response = await fetch(`${api}/drafts`, {
      method: "POST",
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": Vanguard.csrf()},
      body: JSON.stringify({record_id: record.id, changes: {forecastStart: start, forecastEnd: end}}),
    });
    if (!response.ok) {
      const error = await errorText(response);
      const fields = {};
      ((error.details || {}).errors || []).forEach((v) => { fields[v.field] = (fields[v.field] ? fields[v.field] + "; " : "") + v.message; });
      record.error = Object.values(fields).join("; ") || error.message;
      redrawRecord(record);
      return {ok: false, message: error.message, fields};
    }
    await refresh(record);
    return {ok: true};
  }

  // The saved draft as the server now has it (the rules may have cleared it: back to PEMS's values).
  async function refresh(record) {
    const response = await fetch(`${api}/records/${encodeURIComponent(record.id)}`, {headers: {Accept: "application/json"}});
    if (response.ok) {
      const fresh = await response.json();
      const draft = fresh.draft && fresh.draft.state === "draft" ? fresh.draft : null;
      const delta = draft ? draft.delta : {};
      record.forecast_start = fresh.forecast_start;
      record.forecast_end = fresh.forecast_end;
      record.has_draft = Boolean(draft);
      if (seesCosts && "forecast_cost" in fresh) record.forecast_cost = fresh.forecast_cost;
      record.pems = ("forecastStart" in delta || "forecastEnd" in delta) ? {
        forecast_start: "forecastStart" in delta ? draft.base.forecastStart : fresh.forecast_start,
        forecast_end: "forecastEnd" in delta ? draft.base.forecastEnd : fresh.forecast_end} : null;
      if (widen(rowDates(record))) { drawAxis(); redrawAll(); } else redrawRecord(record);
    }
    status.textContent = `Draft saved: ${record.id} forecast ${record.forecast_start} to ${record.forecast_end}.`;
  }

  let drag = null;
  function onPointerDown(event) {
    const target = event.target.closest("[data-forecast]");
    if (!canEdit || !target || event.button !== 0) return;
    const record = state.byId.get(target.dataset.forecast);
    drag = {record, target, x0: event.clientX, left: Number(target.getAttribute("x")), days: 0, moved: false};
    target.setPointerCapture(event.pointerId);
    event.preventDefault();
  }

  function onPointerMove(event) {
    if (!drag) return;
    const dx = event.clientX - drag.x0;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (!drag.record.forecast_start || !drag.record.forecast_end) return;  // half a forecast: the form sets it
    drag.days = Math.round(dx / px());
    drag.target.setAttribute("x", drag.left + Math.round(drag.days * px()));
    drag.target.classList.add("dragging");
    if (drag.moved) {
      status.textContent = `${drag.record.id}: forecast ${addDays(drag.record.forecast_start, drag.days)} to ` +
                           `${addDays(drag.record.forecast_end, drag.days)} (release to save)`;
    }
  }

  async function onPointerUp() {
    if (!drag) return;
    const {record, days, moved} = drag;
    drag = null;
    if (!moved || !record.forecast_start || !record.forecast_end) { openForm(record); return; }
    if (days === 0) { redrawRecord(record); return; }
    status.textContent = `Saving ${record.id}…`;
    const result = await save(record, addDays(record.forecast_start, days), addDays(record.forecast_end, days));
    if (!result.ok) status.textContent = `${record.id} was not changed: ${record.error}`;
  }

  // -- the form: the same shift for keyboard users ---------------------------------------------------
  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll("input").forEach((i) => i.removeAttribute("aria-invalid"));
  }

  function openForm(record) {
    if (!form) return;
    form.hidden = false;
    form.dataset.record = record.id;
    form.querySelector("[data-record]").textContent = record.id;
    form.querySelector("[data-pems]").textContent = record.pems
      ? `PEMS forecast: ${record.pems.forecast_start} to ${record.pems.forecast_end}` : "";
    form.forecastStart.value = record.forecast_start || "";
    form.forecastEnd.value = record.forecast_end || "";
    clearErrors();
    form.forecastStart.focus();
  }

  // Back to the bar the form was opened from, once its row is drawn again.
  let pendingFocus = null;
  function focusPending() {
    if (!pendingFocus) return;
    const bar = rowsBox.querySelector(`[data-forecast="${CSS.escape(pendingFocus)}"]`);
    if (bar) { bar.focus({preventScroll: true}); pendingFocus = null; }
  }

  function closeForm() {
    pendingFocus = form.dataset.record || null;
    form.hidden = true;
    focusPending();
  }

  async function submitForm(event) {
    event.preventDefault();
    const record = state.byId.get(form.dataset.record);
    if (!record) return;
    clearErrors();
    const start = form.forecastStart.value, end = form.forecastEnd.value;
    const missing = [["forecastStart", start], ["forecastEnd", end]].filter(([, v]) => !v);
    if (missing.length) {
      missing.forEach(([name]) => {
        form.querySelector(`[data-error-for="${name}"]`).textContent = "Enter a date (YYYY-MM-DD).";
        form[name].setAttribute("aria-invalid", "true");
      });
      return;
    }
    const result = await save(record, start, end);
    if (result.ok) { closeForm(); return; }
    const names = Object.keys(result.fields);
    names.forEach((name) => {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) || form.querySelector('[data-error-for=""]');
      slot.textContent = result.fields[name];
      if (form[name]) form[name].setAttribute("aria-invalid", "true");
    });
    if (!names.length) form.querySelector('[data-error-for=""]').textContent = result.message;
  }

  // -- zoom ------------------------------------------------------------------------------------------
  function setZoom(zoom) {
    const anchor = state.start === null ? null : state.start + (scroller.scrollLeft + scroller.clientWidth / 3) / px() * DAY;
    state.zoom = zoom;
    root.dataset.zoom = zoom;
    document.querySelectorAll("[data-zoom]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.zoom === zoom)));
    const field = document.getElementById("tl-zoom-field");
    if (field) field.value = zoom;
    const url = new URL(window.location.href);
    url.searchParams.set("zoom", zoom);
    history.replaceState(null, "", url);
    rescale();
    drawAxis();
    redrawAll();
    if (anchor !== null) scroller.scrollLeft = Math.max(0, x(anchor) - scroller.clientWidth / 3);
  }

  document.querySelectorAll("[data-zoom]").forEach((b) => b.addEventListener("click", () => setZoom(b.dataset.zoom)));
  scroller.addEventListener("scroll", schedule, {passive: true});
  window.addEventListener("resize", schedule);
  rowsBox.addEventListener("pointerdown", onPointerDown);
  rowsBox.addEventListener("pointermove", onPointerMove);
  rowsBox.addEventListener("pointerup", onPointerUp);
  rowsBox.addEventListener("pointercancel", () => { if (drag) redrawRecord(drag.record); drag = null; });
  rowsBox.addEventListener("keydown", (event) => {
    const target = event.target.closest("[data-forecast]");
    if (canEdit && target && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      openForm(state.byId.get(target.dataset.forecast));
    }
  });
  if (form) {
    form.addEventListener("submit", submitForm);
    form.querySelector("[data-cancel]").addEventListener("click", closeForm);
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") closeForm(); });
  }
  loadPage();
  loadCount();
})();
