// voltbridge dashboard: shows the controller's live status, plan, money, events and settings.
// Plain JavaScript, no build step. Every text from the server goes through textContent, never HTML.
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PAGES = {
    "/": "/api/status",
    "/plan": "/api/plan",
    "/history": "/api/history",
    "/money": "/api/money",
    "/events": "/api/events",
    "/settings": "/api/settings",
    "/catalog": "/api/catalog",
  };
  const POLL_MS = 5000;
  const MONEY_MS = 60000;
  const IDLE_KW = 0.05;

  const state = {
    page: PAGES[location.pathname] ? location.pathname : "/",
    me: null,
    info: { site_name: "", timezone: "UTC", currency: "", vehicle_names: [] },
    status: null,
    planCreated: undefined,
    planLoading: false,
    settings: null,
    socket: null,
    pollTimer: null,
    retryMs: 2000,
    restoringDeadline: null,
    started: false,
  };

  // ---- small helpers -------------------------------------------------------------------------

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function num(value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return Number(value).toFixed(digits === undefined ? 1 : digits);
  }

  function kw(value) {
    return `${num(Math.abs(value), 1)} kW`;
  }

  function money(value) {
    if (value === null || value === undefined) return "–";
    const code = state.info.currency;
    if (code) {
      try {
        return new Intl.NumberFormat(undefined, { style: "currency", currency: code }).format(value);
      } catch (e) {
        return `${num(value, 2)} ${code}`;
      }
    }
    return num(value, 2);
  }

  function timeFormat(options) {
    try {
      return new Intl.DateTimeFormat(undefined, { timeZone: state.info.timezone, ...options });
    } catch (e) {
      return new Intl.DateTimeFormat(undefined, options);
    }
  }

  function when(iso, withDay) {
    if (!iso) return "–";
    const options = { hour: "2-digit", minute: "2-digit" };
    if (withDay !== false) options.weekday = "short";
    return timeFormat(options).format(new Date(iso));
  }

  // Wall-clock parts of an instant in the site's time zone.
  function zoneParts(date) {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: state.info.timezone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    for (const p of format.formatToParts(date)) parts[p.type] = p.value;
    return parts;
  }

  // "YYYY-MM-DD HH:MM:SS" in the site's zone, the form plotly draws without shifting.
  function localStamp(iso) {
    const p = zoneParts(new Date(iso));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  }

  // "YYYY-MM-DDTHH:MM" for a datetime-local input, in the site's zone.
  function localInput(iso) {
    const p = zoneParts(new Date(iso));
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
  }

  // The instant (ISO, UTC) of a datetime-local value read in the site's zone.
  function fromLocalInput(value) {
    const [date, time] = value.split("T");
    const [y, mo, d] = date.split("-").map(Number);
    const [h, mi] = time.split(":").map(Number);
    const wall = Date.UTC(y, mo - 1, d, h, mi);
    let guess = wall;
    for (let i = 0; i < 2; i += 1) {
      const p = zoneParts(new Date(guess));
      const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
      guess += wall - shown;
    }
    return new Date(guess).toISOString();
  }

  function notice(text) {
    const box = $("notice");
    box.textContent = text || "";
    box.hidden = !text;
  }

  class HttpError extends Error {
    constructor(status, body) {
      super(typeof body.detail === "string" ? body.detail : body.message || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, options) {
    const init = { credentials: "same-origin", headers: { Accept: "application/json" }, ...options };
    if (init.json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.json);
      delete init.json;
    }
    const response = await fetch(path, init);
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = {};
    }
    if (response.status === 401 && !path.startsWith("/api/login")) {
      showLogin("Your session ended: log in again.");
    }
    if (!response.ok) throw new HttpError(response.status, body || {});
    return body;
  }

  // ---- pages and login -----------------------------------------------------------------------

  function showPage() {
    for (const section of document.querySelectorAll("[data-pages]")) {
      section.hidden = !section.dataset.pages.split(" ").includes(state.page);
    }
    for (const link of document.querySelectorAll(".tabs a")) {
      if (link.getAttribute("href") !== state.page) continue;
      link.setAttribute("aria-current", "page");
      // On a phone the tabs scroll sideways: keep this page's tab in sight.
      const nav = link.parentElement;
      nav.scrollLeft = Math.max(0, link.offsetLeft - (nav.clientWidth - link.offsetWidth) / 2);
    }
    $("twin-link").setAttribute("href", PAGES[state.page]);
    $("events-filter").hidden = state.page !== "/events";
  }

  function hidePage() {
    for (const section of document.querySelectorAll("[data-pages]")) section.hidden = true;
  }

  function showLogin(message) {
    const reading = state.me && state.me.can_read;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    if (!reading) hidePage();
    $("password").focus();
  }

  async function login(event) {
    event.preventDefault();
    const field = $("password");
    $("login-error").textContent = "";
    try {
      await api("/api/login", { method: "POST", json: { password: field.value } });
    } catch (error) {
      if (error.status === 429) $("login-error").textContent = `Too many attempts. ${error.message}.`;
      else if (error.status === 401) $("login-error").textContent = "Wrong password.";
      else $("login-error").textContent = error.message;
      return;
    }
    field.value = "";
    $("login").hidden = true;
    await boot();
  }

  async function logout() {
    await api("/api/logout", { method: "POST" }).catch(() => null);
    location.reload();
  }

  // ---- live status ---------------------------------------------------------------------------

  function setLive(mode) {
    const badge = $("live");
    badge.dataset.state = mode;
    badge.textContent = mode;
  }

  function connect() {
    if (state.socket) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/stream`);
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retryMs = 2000;
      stopPolling();
      setLive("live");
    });
    socket.addEventListener("message", (message) => {
      let item;
      try {
        item = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (item.type === "status") renderStatus(item.data);
      else if (item.type === "event") addEvent(item.data);
    });
    socket.addEventListener("close", (closing) => {
      state.socket = null;
      startPolling();
      if (closing.code === 1008) {
        refreshMe();
        return;
      }
      setTimeout(connect, state.retryMs);
      state.retryMs = Math.min(state.retryMs * 2, 30000);
    });
  }

  function startPolling() {
    if (state.pollTimer) return;
    setLive("polling");
    state.pollTimer = setInterval(loadStatus, POLL_MS);
  }

  function stopPolling() {
    if (state.pollTimer) clearInterval(state.pollTimer);
    state.pollTimer = null;
  }

  async function loadStatus() {
    try {
      renderStatus(await api("/api/status"));
      if (!state.socket) setLive("polling");
    } catch (error) {
      if (error.status === 503) notice("Waiting for the controller's first reading…");
      else setLive("offline");
    }
  }

  async function refreshMe() {
    state.me = await api("/api/me");
    if (!state.me.can_read) showLogin();
  }

  function renderStatus(status) {
    state.status = status;
    notice(status.faults && status.faults.length ? `Attention: ${status.faults.join("; ")}` : "");
    $("status-age").textContent = `at ${when(status.at, false)}`;
    $("decision").textContent = status.decision || "";
    renderFlow(status);
    renderCars(status);
    renderBackup(status);
    const newPlan = state.planCreated !== undefined && status.plan_created !== state.planCreated;
    if (newPlan && !state.planLoading && !$("plan-card").hidden) loadPlan();
  }

  // ---- power flow ----------------------------------------------------------------------------

  function flowNode(group, x, y, cls, name, value, what) {
    const g = svg("g", { class: `node ${cls}`, transform: `translate(${x},${y})` });
    g.append(svg("circle", { r: 36 }));
    g.append(svg("text", { y: -8 }, name));
    g.append(svg("text", { y: 9, class: "kw" }, value));
    g.append(svg("text", { y: 24, class: "what" }, what));
    group.append(g);
  }

  // A line between a node and the house, drawn in the direction the power flows.
  function flowEdge(group, from, to, cls, power) {
    const active = Math.abs(power) >= IDLE_KW;
    const [a, b] = power < 0 ? [to, from] : [from, to];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const length = Math.hypot(dx, dy) || 1;
    const ux = dx / length;
    const uy = dy / length;
    group.append(
      svg("path", {
        class: `edge ${cls}${active ? " active" : ""}`,
        d: `M${a[0] + ux * 38},${a[1] + uy * 38} L${b[0] - ux * 38},${b[1] - uy * 38}`,
      })
    );
    if (!active) return;
    // A chevron halfway, pointing the way the power flows (the dashes move that way too).
    const mx = (a[0] + b[0]) / 2;
    const my = (a[1] + b[1]) / 2;
    const tip = [mx + ux * 8, my + uy * 8];
    const left = [mx - ux * 6 - uy * 8, my - uy * 6 + ux * 8];
    const right = [mx - ux * 6 + uy * 8, my - uy * 6 - ux * 8];
    group.append(svg("polygon", { class: `arrow ${cls}`, points: [left, tip, right].map((q) => q.join(",")).join(" ") }));
  }

  function renderFlow(status) {
    const root = $("flow");
    root.replaceChildren();
    const edges = svg("g");
    const nodes = svg("g");
    root.append(edges, nodes);
    const p = status.power_kw;
    const house = [180, 165];
    const pv = [180, 45];
    const grid = [50, 165];
    const battery = [180, 285];
    const cars = Object.keys(p.vehicles || {});
    const carPlaces = cars.map((_, i) => [310, cars.length === 1 ? 165 : 65 + (200 * i) / (cars.length - 1)]);

    flowEdge(edges, pv, house, "pv", p.pv);
    flowNode(nodes, pv[0], pv[1], "pv", "Solar", kw(p.pv), p.pv >= IDLE_KW ? "producing" : "idle");
    flowEdge(edges, grid, house, "grid", p.grid);
    const gridWhat = status.grid_state !== "on_grid" ? "down" : p.grid >= IDLE_KW ? "importing" : p.grid <= -IDLE_KW ? "exporting" : "idle";
    flowNode(nodes, grid[0], grid[1], "grid", "Grid", kw(p.grid), gridWhat);
    if (status.battery) {
      flowEdge(edges, house, battery, "battery", p.battery);
      flowNode(nodes, battery[0], battery[1], "battery", "Battery", kw(p.battery), storageWhat(p.battery));
    }
    cars.forEach((name, i) => {
      const power = p.vehicles[name];
      const car = status.vehicles[name];
      flowEdge(edges, house, carPlaces[i], "car", power);
      const what = car && !car.plugged_in ? "unplugged" : storageWhat(power);
      flowNode(nodes, carPlaces[i][0], carPlaces[i][1], "car", name, kw(power), what);
    });
    flowNode(nodes, house[0], house[1], "house", "House", kw(p.load), "using");
    root.setAttribute(
      "aria-label",
      `Grid ${gridWhat} ${kw(p.grid)}, solar ${kw(p.pv)}, house ${kw(p.load)}` +
        (status.battery ? `, battery ${storageWhat(p.battery)} ${kw(p.battery)}` : "") +
        cars.map((n) => `, ${n} ${storageWhat(p.vehicles[n])} ${kw(p.vehicles[n])}`).join("")
    );
  }

  function storageWhat(power) {
    if (power >= IDLE_KW) return "charging";
    if (power <= -IDLE_KW) return "discharging";
    return "idle";
  }

  // ---- cars ----------------------------------------------------------------------------------

  function renderCars(status) {
    const holder = $("cars");
    holder.replaceChildren();
    for (const [name, car] of Object.entries(status.vehicles || {})) {
      holder.append(carCard(name, car));
    }
  }

  function carCard(name, car) {
    const card = el("article", { class: "card car", id: `car-${name}` });
    const plugged = el("span", { class: car.plugged_in ? "badge on" : "badge", text: car.plugged_in ? "plugged in" : "not plugged in" });
    card.append(el("h2", {}, name, plugged));
    const known = car.soc_kwh !== null && car.soc_kwh !== undefined;
    const pct = known ? `${Math.round(car.soc_pct)}%` : "SoC unknown";
    const kmPerKwh = known && car.range_km && car.soc_kwh > 0 ? car.range_km / car.soc_kwh : null;
    card.append(
      el("p", { class: "soc" },
        el("span", { class: "big", id: `soc-${name}`, text: pct }),
        el("span", { class: "muted", text: known ? `${num(car.soc_kwh)} of ${num(car.capacity_kwh, 0)} kWh · ${num(car.range_km, 0)} km range` : "" })
      )
    );
    const cap = car.capacity_kwh || 1;
    const soc = known ? car.soc_kwh : 0;
    const driving = Math.min(car.for_driving_kwh || 0, soc);
    const backup = Math.min(car.reserved_for_backup_kwh || 0, soc - driving);
    const flexible = Math.max(soc - driving - backup, 0);
    const bar = el("div", {
      class: "socbar", role: "img",
      "aria-label": `${name}: ${num(driving)} kWh for driving, ${num(backup)} kWh kept for backup, ${num(flexible)} kWh free to use`,
    });
    for (const [cls, value] of [["driving", driving], ["backup", backup], ["flexible", flexible]]) {
      const seg = el("span", { class: `seg ${cls}` });
      seg.style.width = `${(100 * value) / cap}%`;
      bar.append(seg);
    }
    const reserve = el("span", { class: "marker mobility", title: "mobility reserve" });
    reserve.style.left = `${Math.min(100, (100 * (car.mobility_reserve_kwh || 0)) / cap)}%`;
    bar.append(reserve);
    if (car.target_soc_pct) {
      const target = el("span", { class: "marker target", title: "target at departure" });
      target.style.left = `${Math.min(99.5, car.target_soc_pct)}%`;
      bar.append(target);
    }
    card.append(bar);
    const drivingKm = kmPerKwh ? ` · ${num(driving * kmPerKwh, 0)} km` : "";
    card.append(
      el("ul", { class: "legend" },
        el("li", {}, el("i", { class: "driving" }), `For driving ${num(driving)} kWh${drivingKm}`),
        el("li", {}, el("i", { class: "backup" }), `Kept for backup ${num(backup)} kWh`),
        el("li", {}, el("i", { class: "flexible" }), `Free to use ${num(flexible)} kWh`)
      )
    );
    const leaves = car.departure ? `Leaves ${when(car.departure)}` : "No departure planned";
    card.append(el("p", {}, `${leaves} · target ${num(car.target_soc_pct, 0)}%`));
    card.append(el("p", { class: "muted" }, `${storageWhat(car.power_kw)} ${kw(car.power_kw)} · mobility reserve ${num(car.mobility_reserve_kwh)} kWh`));
    return card;
  }

  // ---- backup --------------------------------------------------------------------------------

  function renderBackup(status) {
    const line = $("grid-state");
    line.dataset.state = status.grid_state;
    if (status.grid_state === "restoring" && status.restoring_remaining_s !== null) {
      state.restoringDeadline = Date.now() + 1000 * status.restoring_remaining_s;
    } else {
      state.restoringDeadline = null;
    }
    renderGridState();
    $("backup-hours").textContent = `${num(status.backup_hours)} h`;
    const b = status.battery;
    $("battery-line").textContent = b
      ? `Home battery ${b.soc_pct === null ? "–" : Math.round(b.soc_pct) + "%"} (${num(b.soc_kwh)} of ${num(b.capacity_kwh)} kWh), ${storageWhat(b.power_kw)} ${kw(b.power_kw)}`
      : "";
    const circuits = $("circuits");
    circuits.replaceChildren();
    for (const [name, on] of Object.entries(status.circuits || {})) {
      circuits.append(el("li", { class: on ? "on" : "off" }, el("span", { text: name }), el("span", { class: "state", text: on ? "on" : "off" })));
    }
    const faults = $("faults");
    faults.replaceChildren(...(status.faults || []).map((f) => el("li", { text: f })));
  }

  function renderGridState() {
    const line = $("grid-state");
    const s = line.dataset.state;
    if (s === "on_grid") line.textContent = "On grid";
    else if (s === "islanded") line.textContent = "Outage: the house runs on storage (islanded)";
    else if (state.restoringDeadline !== null) {
      const left = Math.max(0, Math.round((state.restoringDeadline - Date.now()) / 1000));
      const mm = Math.floor(left / 60);
      const ss = String(left % 60).padStart(2, "0");
      line.textContent = `Grid is back: reconnecting in ${mm}:${ss}`;
    } else line.textContent = "Grid is back: reconnecting";
  }

  // ---- plan ----------------------------------------------------------------------------------

  async function loadPlan() {
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

  // The 48 hours from the step under way now (the whole plan if it is from another time).
  function nextSteps(plan) {
    const now = Date.now();
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
    $("plan-note").textContent =
      `Made ${when(plan.created || plan.start)}; cost over the horizon ${money(plan.cost.total)}; shaded: reserves kept (driving, backup, floor).`;
    $("plan-warnings").replaceChildren(...(plan.warnings || []).map((w) => el("li", { text: w })));
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
      margin: { l: 44, r: 48, t: 8, b: 36 },
      legend: { orientation: "h", x: 0, y: -0.08, yanchor: "top", font: { size: 10 } },
      hovermode: "x unified",
      font: { size: 11, color: dark ? "#e6edf3" : "#17202a" },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { type: "date", gridcolor: dark ? "#2d3843" : "#e5e7eb" },
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

  async function loadHistory() {
    const hours = Number($("history-range").value);
    const end = new Date();
    const start = new Date(end.getTime() - hours * 3600 * 1000);
    const params = new URLSearchParams({ start: start.toISOString(), end: end.toISOString(), resolution: hours > 24 ? "3600" : "300" });
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

  // ---- money and sessions --------------------------------------------------------------------

  async function loadMoney() {
    const box = $("money");
    const parts = [];
    for (const [period, title] of [["today", "Today"], ["month", "This month"]]) {
      try {
        const m = await api(`/api/money?period=${period}`);
        parts.push(
          el("div", { class: "period", id: `money-${period}` },
            el("h3", { text: title }),
            el("p", {}, el("span", { class: "big", text: money(m.net_cost) }), " net"),
            el("p", { class: m.savings >= 0 ? "ok" : "error", text: `${m.savings >= 0 ? "Saved" : "Lost"} ${money(Math.abs(m.savings))} vs. uncontrolled charging` }),
            el("p", { class: "muted", text: `Import ${money(m.import_cost)} (${num(m.import_kwh)} kWh) · export ${money(m.export_revenue)} (${num(m.export_kwh)} kWh)` })
          )
        );
      } catch (error) {
        box.replaceChildren(el("p", { class: "muted", text: error.message }));
        return;
      }
    }
    box.replaceChildren(...parts);
  }

  async function loadSessions() {
    const table = $("sessions");
    let rows;
    try {
      rows = await api("/api/sessions?limit=50");
    } catch (error) {
      table.replaceChildren(el("caption", { text: error.message }));
      return;
    }
    const head = el("tr", {}, ...["car", "from", "to", "charged kWh", "discharged kWh", "cost", "value"].map((h, i) => el("th", { class: i > 2 ? "num" : null, text: h })));
    const body = rows.map((s) =>
      el("tr", {},
        el("td", { text: s.vehicle }),
        el("td", { text: when(s.start) }),
        el("td", { text: s.end ? when(s.end) : "now" }),
        el("td", { class: "num", text: num(s.charged_kwh) }),
        el("td", { class: "num", text: num(s.discharged_kwh) }),
        el("td", { class: "num", text: money(s.cost) }),
        el("td", { class: "num", text: money(s.value) })
      )
    );
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
    if (!rows.length) table.append(el("caption", { text: "No charging sessions yet." }));
  }

  // ---- events --------------------------------------------------------------------------------

  function eventItem(e) {
    return el("li", {},
      el("time", { datetime: e.at, text: when(e.at) }),
      el("span", { class: "kind", text: e.kind + (e.device ? ` · ${e.device}` : "") }),
      el("span", { class: "message", text: e.message })
    );
  }

  async function loadEvents() {
    const kind = state.page === "/events" ? $("events-kind").value : "";
    const limit = state.page === "/events" ? 200 : 8;
    const params = new URLSearchParams({ limit: String(limit) });
    if (kind) params.set("kind", kind);
    try {
      const events = await api(`/api/events?${params}`);
      $("events").replaceChildren(...events.map(eventItem));
      $("events-note").textContent = events.length ? "" : "No events.";
    } catch (error) {
      $("events-note").textContent = error.message;
    }
  }

  function addEvent(e) {
    if ($("events-card").hidden) return;
    const kind = state.page === "/events" ? $("events-kind").value : "";
    if (kind && e.kind !== kind) return;
    const list = $("events");
    list.prepend(eventItem(e));
    const keep = state.page === "/events" ? 200 : 8;
    while (list.children.length > keep) list.lastElementChild.remove();
    $("events-note").textContent = "";
    if (e.kind === "plan" && !$("plan-card").hidden) loadPlan();
  }

  // ---- settings ------------------------------------------------------------------------------

  const CAR_FIELDS = [
    ["departure", "Next departure (site time)", "datetime-local"],
    ["target_soc_pct", "Target at departure [%]", "number"],
    ["mobility_reserve_pct", "Mobility reserve, never used for the house [%]", "number"],
    ["outage_reserve_pct", "Reserve during this outage only [%]", "number"],
  ];

  async function loadSettings() {
    let settings;
    try {
      settings = await api("/api/settings");
    } catch (error) {
      $("settings-result").textContent = error.message;
      return;
    }
    if (!state.status) {
      try {
        state.status = await api("/api/status");
      } catch (e) {
        state.status = null;
      }
    }
    fillSettings(settings);
  }

  function setInitial(input, value) {
    input.dataset.initial = value;
    if (input.type === "checkbox") input.checked = value === "true";
    else input.value = value;
  }

  function fillSettings(settings) {
    state.settings = settings;
    setInitial($("set-mode"), settings.mode);
    setInitial($("set-v2g"), String(settings.v2g_allowed));
    setInitial($("set-backup"), String(settings.backup_reserve_h));
    const holder = $("car-settings");
    holder.replaceChildren();
    const names = state.info.vehicle_names.length ? state.info.vehicle_names : Object.keys(settings.vehicles);
    for (const name of names) {
      const mine = settings.vehicles[name] || {};
      const live = state.status && state.status.vehicles ? state.status.vehicles[name] : null;
      const set = el("fieldset", { "data-vehicle": name }, el("legend", { text: name }));
      for (const [field, label, type] of CAR_FIELDS) {
        const id = `set-${name}-${field}`;
        const input = el("input", { id, name: `vehicles.${name}.${field}`, type, "data-field": field });
        if (type === "number") {
          Object.assign(input, { min: 0, max: 100, step: 1 });
          input.setAttribute("inputmode", "decimal");
        }
        let value = mine[field];
        if (field === "departure") value = value ? localInput(value) : "";
        setInitial(input, value === null || value === undefined ? "" : String(value));
        input.placeholder = placeholderFor(field, live);
        set.append(el("label", { for: id, text: label }), input);
      }
      set.append(el("p", { class: "muted small", text: "Empty: as the site file and trip schedule say." }));
      holder.append(set);
    }
    const canWrite = state.me && state.me.can_write;
    $("settings-save").disabled = !canWrite;
    $("settings-form").dataset.loaded = "true";
    $("settings-result").textContent = canWrite ? "" : "Log in to change settings.";
  }

  function placeholderFor(field, live) {
    if (!live) return "";
    if (field === "target_soc_pct") return `${num(live.target_soc_pct, 0)} (site file)`;
    if (field === "mobility_reserve_pct" && live.capacity_kwh) return `${num((100 * live.mobility_reserve_kwh) / live.capacity_kwh, 0)} (site file)`;
    return "";
  }

  // Only what the household changed is sent; a car field emptied goes back to the site file.
  function settingsChange() {
    const change = {};
    if ($("settings-form").dataset.loaded !== "true") return change;
    const mode = $("set-mode");
    if (mode.value !== mode.dataset.initial) change.mode = mode.value;
    const v2g = $("set-v2g");
    if (String(v2g.checked) !== v2g.dataset.initial) change.v2g_allowed = v2g.checked;
    const backup = $("set-backup");
    if (backup.value !== backup.dataset.initial && backup.value !== "") change.backup_reserve_h = Number(backup.value);
    for (const set of document.querySelectorAll("#car-settings fieldset")) {
      const car = {};
      for (const input of set.querySelectorAll("input")) {
        if (input.value === input.dataset.initial) continue;
        const field = input.dataset.field;
        if (input.value === "") car[field] = null;
        else if (field === "departure") car[field] = fromLocalInput(input.value);
        else car[field] = Number(input.value);
      }
      if (Object.keys(car).length) {
        change.vehicles = change.vehicles || {};
        change.vehicles[set.dataset.vehicle] = car;
      }
    }
    return change;
  }

  async function saveSettings(event) {
    event.preventDefault();
    const result = $("settings-result");
    for (const input of document.querySelectorAll("#settings-form [aria-invalid]")) input.removeAttribute("aria-invalid");
    const change = settingsChange();
    if (!Object.keys(change).length) {
      result.className = "muted";
      result.textContent = "Nothing changed.";
      return;
    }
    result.className = "muted";
    result.textContent = "Saving…";
    try {
      const settings = await api("/api/settings", { method: "PATCH", json: change });
      fillSettings(settings);
      result.className = "ok";
      result.textContent = "Saved.";
    } catch (error) {
      result.className = "error";
      if (error.status === 422 && error.body.detail) {
        for (const problem of error.body.detail) {
          const input = document.querySelector(`#settings-form [name="${CSS.escape(problem.field)}"]`);
          if (input) input.setAttribute("aria-invalid", "true");
        }
        result.textContent = error.body.message;
      } else {
        result.textContent = error.message;
      }
    }
  }

  // ---- catalog -------------------------------------------------------------------------------

  function yesNo(value) {
    return value === null || value === undefined ? "–" : value ? "yes" : "no";
  }

  function table(id, headers, rows) {
    const head = el("tr", {}, ...headers.map(([h, isNum]) => el("th", { class: isNum ? "num" : null, text: h })));
    // The first column (a product's name) wraps so the figures stay in sight on a phone.
    const cls = (i) => (i === 0 ? "name" : headers[i][1] ? "num" : null);
    const body = rows.map((cells) => el("tr", {}, ...cells.map((c, i) => el("td", { class: cls(i), text: c }))));
    $(id).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  }

  async function loadCatalog() {
    let catalog;
    try {
      catalog = await api("/api/catalog");
    } catch (error) {
      $("catalog-vehicles").replaceChildren(el("caption", { text: error.message }));
      return;
    }
    table(
      "catalog-vehicles",
      [["vehicle"], ["usable kWh", true], ["V2X kW", true], ["V2H"], ["V2G"], ["V2L"], ["id"]],
      catalog.vehicles.map((v) => [
        `${v.make} ${v.model} ${v.variant || ""}`.trim(),
        v.usable_kwh === null && v.gross_kwh !== null ? `${num(v.gross_kwh)} gross` : num(v.usable_kwh),
        num(v.max_discharge_kw),
        yesNo(v.v2h), yesNo(v.v2g), yesNo(v.v2l), v.id,
      ])
    );
    table(
      "catalog-chargers",
      [["charger"], ["charge kW", true], ["discharge kW", true], ["V2H"], ["V2G"], ["islands"], ["id"]],
      catalog.chargers.map((c) => [
        `${c.make} ${c.model}`, num(c.max_charge_kw), num(c.max_discharge_kw),
        yesNo(c.v2h), yesNo(c.v2g), yesNo(c.grid_forming), c.id,
      ])
    );
  }

  // ---- start ---------------------------------------------------------------------------------

  async function boot() {
    try {
      state.me = await api("/api/me");
    } catch (error) {
      setLive("offline");
      notice(`The server does not answer: ${error.message}`);
      return;
    }
    $("login-button").hidden = state.me.authenticated;
    $("logout-button").hidden = !state.me.authenticated;
    if (!state.me.can_read) {
      showLogin();
      return;
    }
    $("login").hidden = true;
    showPage();
    try {
      state.info = await api("/api/info");
    } catch (error) {
      notice(error.message);
    }
    $("site-name").textContent = state.info.site_name;
    document.title = `${state.info.site_name} · voltbridge`;
    const page = state.page;
    const loads = [];
    if (page === "/") loads.push(loadStatus());
    if (page === "/" || page === "/plan") loads.push(loadPlan());
    if (page === "/" || page === "/money") loads.push(loadMoney());
    if (page === "/money") loads.push(loadSessions());
    if (page === "/" || page === "/events") loads.push(loadEvents());
    if (page === "/history") loads.push(loadHistory());
    if (page === "/settings") loads.push(loadSettings());
    if (page === "/catalog") loads.push(loadCatalog());
    await Promise.all(loads);
    if (!state.started) {
      state.started = true;
      connect();
      if (page === "/" || page === "/money") setInterval(loadMoney, MONEY_MS);
      setInterval(() => {
        if (state.restoringDeadline !== null) renderGridState();
      }, 1000);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    showPage();
    hidePage();
    $("login-form").addEventListener("submit", login);
    $("login-button").addEventListener("click", () => showLogin());
    $("logout-button").addEventListener("click", logout);
    $("settings-form").addEventListener("submit", saveSettings);
    $("events-kind").addEventListener("change", loadEvents);
    $("history-range").addEventListener("change", loadHistory);
    boot();
  });
})();
