// The live status: the power flow, each car's state of charge, and the backup card.
import { $, IDLE_KW, el, kw, notice, num, state, svg, when } from "./common.js";
import { loadPlan } from "./charts.js";
import { renderStorm } from "./storm.js";

export function renderStatus(status) {
  state.status = status;
  notice(status.faults && status.faults.length ? `Attention: ${status.faults.join("; ")}` : "");
  $("status-age").textContent = `at ${when(status.at, false)}`;
  $("decision").textContent = status.decision || "";
  renderFlow(status);
  renderCars(status);
  renderBackup(status);
  renderStorm(status);
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
  const gridWhat = status.grid_state === "unknown" || p.grid === null ? "no data" : status.grid_state !== "on_grid" ? "down" : p.grid >= IDLE_KW ? "importing" : p.grid <= -IDLE_KW ? "exporting" : "idle";
  flowNode(nodes, grid[0], grid[1], "grid", "Grid", kw(p.grid), gridWhat);
  if (status.battery) {
    flowEdge(edges, house, battery, "battery", p.battery);
    flowNode(nodes, battery[0], battery[1], "battery", "Battery", kw(p.battery), storageWhat(p.battery));
  }
  cars.forEach((name, i) => {
    const power = p.vehicles[name];
    const car = status.vehicles[name];
    flowEdge(edges, house, carPlaces[i], "car", power);
    const what = car && car.plugged_in === null ? "no data" : car && !car.plugged_in ? "unplugged" : storageWhat(power);
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
  if (power === null || power === undefined) return "no data";
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
  // The sun's help is apart: storage alone is what holds through a night or a cloudy outage.
  const sun = status.backup_hours_with_sun;
  $("backup-sun").textContent = sun === null || sun === undefined ? "" : `${num(sun)} h with the expected sun`;
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

export function renderGridState() {
  const line = $("grid-state");
  const s = line.dataset.state;
  if (s === "on_grid") line.textContent = "On grid";
  else if (s === "unknown") line.textContent = "Grid state unknown: no data from the meter (storages held at 0 kW)";
  else if (s === "islanded") line.textContent = "Outage: the house runs on storage (islanded)";
  else if (state.restoringDeadline !== null) {
    const left = Math.max(0, Math.round((state.restoringDeadline - Date.now()) / 1000));
    const mm = Math.floor(left / 60);
    const ss = String(left % 60).padStart(2, "0");
    line.textContent = `Grid is back: reconnecting in ${mm}:${ss}`;
  } else line.textContent = "Grid is back: reconnecting";
}
