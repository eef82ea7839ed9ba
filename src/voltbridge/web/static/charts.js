// The plan (next 48 h) and history charts, drawn with plotly served from its Python package.
import { $, api, el, localStamp, money, state, when } from "./common.js";

// ---- plan ----------------------------------------------------------------------------------

export async function loadPlan() {
  state.planLoading = true;
  let plan;
  try {
    plan = await api("/api/plan");
  } catch (error) {
    state.planCreated = null;
    $("plan-note").textContent = error.status === 503 ? "No plan yet." : error.message;
    return;
  } finally {
    state.planLoading = false;
  }
  state.planCreated = plan.created;
  drawPlan(plan);
}

// The controller's now (ms): its last status, else the plan's making; never the browser's clock,
// which is not the controller's (the demo runs its clock faster, a browser's clock may be off).
function controllerNow(plan) {
  const at = state.status && state.status.at ? state.status.at : plan.created || plan.start;
  return new Date(at).getTime();
}

// The 48 hours from the step under way now (the whole plan if it is from another time).
function nextSteps(plan) {
  const now = controllerNow(plan);
  const ends = plan.steps.map((s) => new Date(s.start).getTime() + s.hours * 3600 * 1000);
  let first = ends.findIndex((end) => end > now);
  if (first < 0 || new Date(plan.steps[first].start).getTime() > now) first = 0;
  const until = new Date(plan.steps[first].start).getTime() + 48 * 3600 * 1000;
  return plan.steps.slice(first).filter((s) => new Date(s.start).getTime() < until);
}

function drawPlan(plan) {
  if (!plan.steps.length) return;
  const steps = nextSteps(plan);
  const offset = plan.steps.indexOf(steps[0]);
  const x = steps.map((s) => localStamp(s.start));
  const traces = [];
  const line = { shape: "hv", width: 2 };
  const names = Object.keys(plan.storages);
  const palette = ["#0891b2", "#7c3aed", "#db2777", "#65a30d"];
  names.forEach((name, i) => {
    const storage = plan.storages[name];
    const color = storage.kind === "battery" ? "#16a34a" : palette[i % palette.length];
    const power = steps.map((s) => (storage.kind === "battery" ? s.battery_kw : s.vehicles[name].kw));
    const soc = steps.map((s) => (storage.kind === "battery" ? s.battery_soc_kwh : s.vehicles[name].soc_kwh));
    const reserve = (plan.reserve_kwh && plan.reserve_kwh[name]) || [];
    const pct = (v) => (100 * v) / storage.capacity_kwh;
    traces.push({ x, y: power, name: `${name} kW`, type: "scatter", mode: "lines", line: { ...line, color }, yaxis: "y" });
    traces.push({
      x, y: reserve.slice(offset, offset + steps.length).map(pct), name: `${name} reserve`, type: "scatter", mode: "lines",
      line: { width: 0, shape: "hv" }, fill: "tozeroy", fillcolor: hexAlpha(color, 0.18), yaxis: "y3", hoverinfo: "skip", showlegend: false,
    });
    traces.push({ x, y: soc.map(pct), name: `${name} SoC %`, type: "scatter", mode: "lines", line: { color, width: 2 }, yaxis: "y3" });
  });
  traces.push({ x, y: steps.map((s) => s.grid_kw), name: "grid kW", type: "scatter", mode: "lines", line: { ...line, color: "#6366f1", dash: "dot", width: 1 }, yaxis: "y" });
  traces.push({ x, y: steps.map((s) => s.price_import), name: "import price", type: "scatter", mode: "lines", line: { ...line, color: "#d97706", width: 1.5 }, yaxis: "y2" });
  if (steps.some((s) => s.price_export !== 0)) {
    traces.push({ x, y: steps.map((s) => s.price_export), name: "export price", type: "scatter", mode: "lines", line: { ...line, color: "#d97706", dash: "dash", width: 1 }, yaxis: "y2" });
  }
  const cur = plan.currency || state.info.currency || "";
  const layout = {
    ...chartLayout(),
    yaxis: { domain: [0.56, 1], title: { text: "kW" }, zeroline: true },
    yaxis2: { overlaying: "y", side: "right", title: { text: `${cur}/kWh` }, showgrid: false, rangemode: "tozero" },
    yaxis3: { domain: [0, 0.4], title: { text: "SoC %" }, range: [0, 100] },
  };
  plot("plan-chart", traces, layout);
  // Money apart from penalties: a penalty is the planner's price of a target it cannot meet,
  // nobody pays it; the warnings say in words which targets those are.
  const c = plan.cost;
  const bill = c.bill !== undefined ? c.bill : c.import - c.export_revenue + c.demand_charge;
  $("plan-note").textContent =
    `Made ${when(plan.created || plan.start)}; expected bill over the horizon ${money(bill)}` +
    ` (imports ${money(c.import)}, exports −${money(c.export_revenue)}` +
    (c.demand_charge ? `, demand charge ${money(c.demand_charge)}` : "") +
    `); battery wear ${money(c.degradation)}; shaded: reserves kept (driving, backup, floor).`;
  const warnings = plan.warnings || [];
  $("plan-unmet").hidden = warnings.length === 0;
  $("plan-unmet").textContent = warnings.length === 1 ? "One target cannot be met:" : `${warnings.length} targets cannot be met:`;
  $("plan-warnings").replaceChildren(...warnings.map((w) => el("li", { text: w })));
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function chartLayout() {
  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  const narrow = window.innerWidth < 560;
  return {
    height: narrow ? 500 : 440,
    // On a phone: thinner margins and at most 4 short time labels ("14:00" over "Wed"), which
    // plotly's own choice (a date under every other label) made run into one another.
    margin: narrow ? { l: 38, r: 42, t: 8, b: 36 } : { l: 44, r: 48, t: 8, b: 36 },
    legend: { orientation: "h", x: 0, y: -0.08, yanchor: "top", font: { size: 10 } },
    hovermode: "x unified",
    font: { size: 11, color: dark ? "#e6edf3" : "#17202a" },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    xaxis: {
      type: "date", gridcolor: dark ? "#2d3843" : "#e5e7eb",
      ...(narrow ? { nticks: 4, tickformat: "%H:%M<br>%a", tickfont: { size: 10 } } : {}),
    },
  };
}

// plotly (4 MB) is fetched only by pages that draw a chart, and only once.
let plotlyLoading = null;
function loadPlotly() {
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = el("script", { src: "/static/plotly.min.js" });
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => reject(new Error("The chart library did not load.")));
      document.head.append(script);
    });
  }
  return plotlyLoading;
}

async function plot(id, traces, layout) {
  try {
    const plotly = await loadPlotly();
    await plotly.react($(id), traces, layout, { displayModeBar: false, responsive: true });
  } catch (error) {
    $(id).textContent = error.message;
  }
}

// ---- history -------------------------------------------------------------------------------

export async function loadHistory() {
  // The window ends at the controller's now, never the browser's: the two differ (the demo runs
  // its clock faster; a browser's clock may be off), and the data carry the controller's time.
  const hours = Number($("history-range").value);
  const params = new URLSearchParams({ hours: String(hours), resolution: hours > 24 ? "3600" : "300" });
  let body;
  try {
    body = await api(`/api/history?${params}`);
  } catch (error) {
    $("history-note").textContent = error.message;
    return;
  }
  const rows = body.rows;
  const x = rows.map((r) => localStamp(r.at));
  const line = (name, y, color, axis) => ({ x, y, name, type: "scatter", mode: "lines", line: { color, width: 1.5 }, yaxis: axis || "y" });
  const traces = [
    line("grid kW", rows.map((r) => r.grid_kw), "#6366f1"),
    line("solar kW", rows.map((r) => r.pv_kw), "#d97706"),
    line("house kW", rows.map((r) => r.load_kw), "#64748b"),
    line("battery kW", rows.map((r) => r.battery_kw), "#16a34a"),
    line("battery kWh", rows.map((r) => r.battery_soc_kwh), "#16a34a", "y3"),
  ];
  const cars = new Set();
  rows.forEach((r) => Object.keys(r.vehicles || {}).forEach((n) => cars.add(n)));
  for (const name of cars) {
    traces.push(line(`${name} kW`, rows.map((r) => (r.vehicles[name] ? r.vehicles[name].kw : null)), "#0891b2"));
    traces.push(line(`${name} kWh`, rows.map((r) => (r.vehicles[name] ? r.vehicles[name].soc_kwh : null)), "#0891b2", "y3"));
  }
  plot("history-chart", traces, {
    ...chartLayout(),
    yaxis: { domain: [0.56, 1], title: { text: "kW" } },
    yaxis3: { domain: [0, 0.4], title: { text: "kWh" }, rangemode: "tozero" },
  });
  $("history-note").textContent = rows.length ? "" : "Nothing recorded in this range.";
}
