// A chat answer's chart, drawn with the vendored Chart.js (/static/vendor/): the kind is read from
// the result's shape (rules in `chooseChart`, and in the README's chat section), the axes get
// round ticks and thousands separators, and the picture downloads as a PNG.
"use strict";

window.VanguardAnswerChart = (() => {
  const MAX_BARS = 60, MAX_POINTS = 400, MAX_SLICES = 8, MAX_SERIES = 12;
  const LONG_LABEL = 14;  // longer category names turn a bar chart on its side, so they read level
  const COLOURS = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16",
                   "#f97316", "#64748b", "#14b8a6", "#a855f7"];
  const DATE = /^\d{4}-\d{2}(-\d{2})?([T ][\d:.+\-Z]*)?$/;
  const number = new Intl.NumberFormat(undefined, {maximumFractionDigits: 2});

  const present = (values) => values.filter((v) => v !== null && v !== undefined);
  const isNumeric = (values) => present(values).length > 0 && present(values).every((v) => typeof v === "number");
  const isText = (values) => present(values).every((v) => typeof v === "string" || typeof v === "boolean");
  function isTime(name, values) {
    const known = present(values);
    if (known.length < 2) return false;
    if (known.every((v) => typeof v === "string" && DATE.test(v))) return true;
    // A year comes back as a number: 2026 under a column named for it.
    return /year/i.test(name) && known.every((v) => Number.isInteger(v) && v >= 1900 && v <= 2100);
  }

  // Parts of a whole in percent: none negative, none missing, adding up to 100 (give or take rounding).
  const isShare = (values) => values.every((v) => typeof v === "number" && v >= 0) &&
    Math.abs(values.reduce((sum, v) => sum + v, 0) - 100) <= 1.5;

  // "2026-03-01" for a month bucket reads "Mar 2026"; other dates stay as written.
  function timeLabel(value) {
    if (typeof value === "number") return String(value);
    const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(value);
    if (m && (!m[3] || m[3] === "01")) {
      return new Date(Date.UTC(+m[1], +m[2] - 1, 1)).toLocaleDateString(undefined, {month: "short", year: "numeric", timeZone: "UTC"});
    }
    return String(value).slice(0, 10);
  }
  const label = (value) => (value === null || value === undefined || value === "" ? "(none)" : String(value));
  const distinct = (values) => [...new Set(values)];

  /**
   * The chart a result asks for, or null when a table says it better. The rules, first match wins:
   * - label + series + measure (two text or date columns, then one number) → stacked bar: one bar
   *   per label, one segment per series (≤ 12 series; the two are swapped when only that fits);
   * - a time label (ISO dates or months, or a year column) + one to three numbers → line, in time order;
   * - a label + numbers of which one is a share (every value ≥ 0, summing to 100 ± 1.5), ≤ 8 labels
 *   → pie of that share;
   * - a label + one to three numbers → bar (side by side when several; horizontal for long labels).
   * Two labels at least, at most 60 bars (400 points on a line).
   */
  function chooseChart(columns, rows) {
    if (rows.length < 2 || columns.length < 2 || columns.length > 4) return null;
    const values = columns.map((_, c) => rows.map((r) => r[c]));
    const time = isTime(columns[0], values[0]);
    if (!time && !isText(values[0])) return null;
    if (columns.length === 3 && !isNumeric(values[1]) && isText(values[1]) && isNumeric(values[2])) {
      return stacked(columns, rows, time);
    }
    const measures = values.slice(1);
    if (!measures.every(isNumeric)) return null;
    if (time) {
      const points = rows.filter((r) => r[0] !== null && r[0] !== undefined)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      if (points.length < 2 || points.length > MAX_POINTS) return null;
      return {kind: "line", labels: points.map((r) => timeLabel(r[0])),
              datasets: columns.slice(1).map((name, s) => ({label: name, data: points.map((r) => r[s + 1])}))};
    }
    if (rows.length > MAX_BARS) return null;
    const labels = rows.map((r) => label(r[0]));
    const share = measures.findIndex(isShare);
    if (share >= 0 && rows.length <= MAX_SLICES) {
      return {kind: "pie", labels, datasets: [{label: columns[share + 1], data: measures[share]}]};
    }
    return {kind: "bar", labels, horizontal: labels.some((l) => l.length > LONG_LABEL),
            datasets: columns.slice(1).map((name, s) => ({label: name, data: rows.map((r) => r[s + 1])}))};
  }

  function stacked(columns, rows, time) {
    let [x, s] = [0, 1];
    if (distinct(rows.map((r) => label(r[1]))).length > MAX_SERIES && !time) [x, s] = [1, 0];
    const ordered = time ? rows.filter((r) => r[x] !== null).sort((a, b) => (a[x] < b[x] ? -1 : a[x] > b[x] ? 1 : 0)) : rows;
    const keys = distinct(ordered.map((r) => (time ? r[x] : label(r[x]))));
    const series = distinct(ordered.map((r) => label(r[s])));
    if (keys.length < 2 || keys.length > MAX_BARS || series.length > MAX_SERIES) return null;
    const cells = new Map(ordered.map((r) => [`${time ? r[x] : label(r[x])}\u0000${label(r[s])}`, r[2]]));
    const labels = keys.map((k) => (time ? timeLabel(k) : k));
    return {kind: "stacked", labels, horizontal: !time && labels.some((l) => l.length > LONG_LABEL), labelName: columns[x], seriesName: columns[s],
            datasets: series.map((name) => ({label: name, data: keys.map((k) => cells.get(`${k}\u0000${name}`) ?? null)}))};
  }

  const short = (text, n = 20) => (text.length > n ? text.slice(0, n - 1) + "…" : text);

  // Canvas pixels are transparent by default: paint white under the chart, so the PNG reads anywhere.
  const whiteBackground = {id: "vanguardWhiteBackground", beforeDraw(chart) {
    const {ctx} = chart;
    ctx.save();
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  }};

  function config(spec, columns) {
    const many = spec.datasets.length > 1;
    const datasets = spec.datasets.map((d, i) => {
      const colour = COLOURS[i % COLOURS.length];
      if (spec.kind === "pie") return {...d, backgroundColor: d.data.map((_, k) => COLOURS[k % COLOURS.length])};
      if (spec.kind === "line") return {...d, borderColor: colour, backgroundColor: colour, pointRadius: d.data.length > 60 ? 0 : 3, tension: 0};
      return {...d, backgroundColor: colour};
    });
    const tooltip = {callbacks: {label: (item) => `${item.dataset.label}: ${number.format(item.raw ?? 0)}${spec.kind === "pie" ? " %" : ""}`}};
    if (spec.kind === "pie") {
      return {type: "pie", data: {labels: spec.labels, datasets},
              options: {animation: false, maintainAspectRatio: false,
                        plugins: {legend: {position: "right"}, tooltip}}};
    }
    const stack = spec.kind === "stacked";
    const valueAxis = {beginAtZero: true, stacked: stack, grace: "5%",
                       ticks: {callback: (v) => number.format(v), maxTicksLimit: 8},
                       title: {display: true, text: stack ? columns[2] : (many ? "" : columns[1])}};
    const labelAxis = {stacked: stack, grid: {display: false},
                       title: {display: true, text: stack ? spec.labelName : columns[0]},
                       ticks: {autoSkip: true, maxRotation: 45, minRotation: 0,
                               callback(value) { return short(String(this.getLabelForValue(value)), spec.horizontal ? 28 : 20); }}};
    return {type: spec.kind === "line" ? "line" : "bar", data: {labels: spec.labels, datasets},
            options: {animation: false, maintainAspectRatio: false, indexAxis: spec.horizontal ? "y" : "x",
                      plugins: {legend: {display: many, position: "bottom"}, tooltip},
                      scales: spec.horizontal ? {y: labelAxis, x: valueAxis} : {x: labelAxis, y: valueAxis}}};
  }

  function describe(spec, columns) {
    const kind = {bar: "Bar", line: "Line", stacked: "Stacked bar", pie: "Pie"}[spec.kind];
    const measures = spec.kind === "stacked" ? columns[2] + " by " + spec.seriesName : columns.slice(1).join(" and ");
    return `${kind} chart of ${measures} by ${spec.kind === "stacked" ? spec.labelName : columns[0]}`;
  }

  /** Draws the chart of an answer in `container` (its `.chart`), or hides it; returns the chart. */
  function draw(container, columns, rows, question) {
    const spec = chooseChart(columns, rows);
    if (!spec || !window.Chart) { container.hidden = true; return null; }
    const box = document.createElement("div");
    box.className = "chart-box " + spec.kind + (spec.horizontal ? " horizontal" : "");
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", describe(spec, columns) + " (the rows are in the table below)");
    box.append(canvas);
    container.replaceChildren(box);
    container.dataset.kind = spec.kind;
    container.hidden = false;  // before drawing: a hidden box has no size to draw into
    if (spec.horizontal) box.style.height = Math.min(900, Math.max(220, 60 + 26 * spec.labels.length)) + "px";
    const chart = new window.Chart(canvas, {...config(spec, columns), plugins: [whiteBackground]});
    addPngDownload(container, canvas, question);
    return chart;
  }

  function addPngDownload(container, canvas, question) {
    const tools = container.closest(".answer")?.querySelector(".answer-tools");
    if (!tools) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "download-png";
    button.textContent = "Download chart (PNG)";
    button.addEventListener("click", () => canvas.toBlob((blob) => {
      if (blob) VanguardAnswerTable.download(blob, VanguardAnswerTable.fileName(question, "png"));
    }, "image/png"));
    tools.prepend(button);
    tools.hidden = false;
  }

  return {chooseChart, draw};
})();
