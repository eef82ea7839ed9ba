// What was recorded: money, charging sessions, events, and the catalog of vehicles and chargers.
import { $, api, el, money, num, state, when } from "./common.js";
import { loadPlan } from "./charts.js";

// ---- money and sessions --------------------------------------------------------------------

export async function loadMoney() {
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
          el("p", { class: "muted", text: `Import ${money(m.import_cost)} (${num(m.import_kwh)} kWh) · export ${money(m.export_revenue)} (${num(m.export_kwh)} kWh)` }),
          period === "month" ? programIncome(m.program_income) : null
        )
      );
    } catch (error) {
      box.replaceChildren(el("p", { class: "muted", text: error.message }));
      return;
    }
  }
  box.replaceChildren(...parts);
}

// What the grid programs paid this month, its own line beside the bill; unknown is said, never 0.
function programIncome(income) {
  if (!income || !income.programs || !income.programs.length) return null;
  const line = el("p", { id: "program-income", class: "program-income" }, "Paid by grid programs this month: ");
  if (income.total === null || income.total === undefined) {
    line.dataset.known = "false";
    line.append(el("strong", { text: "unknown" }), el("span", { class: "muted small", text: ` (${income.note})` }));
    return line;
  }
  line.dataset.known = "true";
  line.append(el("strong", { class: "big", text: money(income.total) }), ` for ${num(income.delivered_kwh)} kWh delivered in events`);
  if (income.programs.length > 1) {
    const parts = income.programs.map((p) => `${p.title || p.program} ${p.income === null ? "unknown" : money(p.income)}`);
    line.append(el("span", { class: "muted small", text: ` (${parts.join(" · ")})` }));
  }
  return line;
}

export async function loadSessions() {
  const table = $("sessions");
  let rows;
  try {
    rows = await api("/api/sessions?limit=50");
  } catch (error) {
    table.replaceChildren(el("caption", { text: error.message }));
    return;
  }
  const headers = ["car", "from", "to", "charged kWh", "discharged kWh", "cost", "value"];
  const head = el("tr", {}, ...headers.map((h, i) => el("th", { class: i > 2 ? "num" : null, text: h })));
  // Each cell carries its column's name: on a phone a row is a small card of labelled figures.
  const cell = (i, text) => el("td", { class: i === 0 ? "name" : i > 2 ? "num" : null, "data-label": headers[i], text });
  const body = rows.map((s) =>
    el("tr", {},
      cell(0, s.vehicle),
      cell(1, when(s.start)),
      cell(2, s.end ? when(s.end) : "now"),
      cell(3, num(s.charged_kwh)),
      cell(4, num(s.discharged_kwh)),
      cell(5, money(s.cost)),
      cell(6, money(s.value))
    )
  );
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  if (!rows.length) table.append(el("caption", { text: "No charging sessions yet." }));
}

// ---- events --------------------------------------------------------------------------------

// Each kind in words; storm watch's events (mode and warning events) are named as such.
const KIND_WORDS = {
  grid: "grid", mode: "mode", fault: "fault", guard: "safety guard", plan: "plan", plug: "plug",
  shed: "circuits", program: "grid program", warning: "warning",
};

function isStorm(e) {
  return Boolean(e.data && e.data.code === "storm-watch");
}

// A device not connected yet at start is no fault (see control/faults.py): said as start-up.
function kindWords(e) {
  if (e.data && e.data.code === "device-waiting") return "start-up";
  return isStorm(e) ? "storm watch" : KIND_WORDS[e.kind] || e.kind;
}

// Repeats (the same kind, device and words, numbers aside) are one line with "×N" at the newest
// one, saying when the first was: a restart's or a flapping device's lines do not bury the rest.
function eventKey(e) {
  return [isStorm(e) ? "storm-watch" : e.kind, e.device || "", e.message.replace(/\d+(\.\d+)?/g, "#")].join("|");
}

function eventItem(e, count = 1, first = e.at) {
  const li = el("li", { "data-kind": isStorm(e) ? "storm-watch" : e.kind, "data-key": eventKey(e), "data-count": String(count), "data-first": first },
    el("time", { datetime: e.at, text: when(e.at) }),
    el("span", { class: "kind", text: kindWords(e) + (e.device ? ` · ${e.device}` : "") }),
    el("span", { class: "message", text: e.message })
  );
  if (count > 1) li.append(el("span", { class: "repeat", title: `${count} times since ${when(first)}`, text: `×${count} since ${when(first)}` }));
  return li;
}

// Events newest first -> one item per key, at its newest event, with the count and the oldest time.
export function groupEvents(events) {
  const groups = new Map();
  for (const e of events) {
    const key = eventKey(e);
    const g = groups.get(key);
    if (g) {
      g.count += 1;
      g.first = e.at;
    } else {
      groups.set(key, { e, count: 1, first: e.at });
    }
  }
  return [...groups.values()];
}

export async function loadEvents() {
  const kind = state.page === "/events" ? $("events-kind").value : "";
  const limit = state.page === "/events" ? 200 : 8;
  try {
    const events = kind === "storm-watch" ? await stormEvents(limit) : await api(`/api/events?${query(kind, limit)}`);
    $("events").replaceChildren(...groupEvents(events).map((g) => eventItem(g.e, g.count, g.first)));
    $("events-note").textContent = events.length ? "" : "No events.";
  } catch (error) {
    $("events-note").textContent = error.message;
  }
}

function query(kind, limit) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (kind) params.set("kind", kind);
  return params;
}

// Storm watch records its announcements as mode events and its on/off as warnings.
async function stormEvents(limit) {
  const [modes, warnings] = await Promise.all(["mode", "warning"].map((k) => api(`/api/events?${query(k, limit)}`)));
  return modes.concat(warnings).filter(isStorm).sort((a, b) => b.id - a.id).slice(0, limit);
}

export function addEvent(e) {
  if ($("events-card").hidden) return;
  const kind = state.page === "/events" ? $("events-kind").value : "";
  if (kind && (kind === "storm-watch" ? !isStorm(e) : e.kind !== kind)) return;
  const list = $("events");
  const key = eventKey(e);
  const same = [...list.children].find((li) => li.dataset.key === key);
  if (same) same.remove(); // the repeat moves to the top with one more
  list.prepend(same ? eventItem(e, Number(same.dataset.count) + 1, same.dataset.first) : eventItem(e));
  const keep = state.page === "/events" ? 200 : 8;
  while (list.children.length > keep) list.lastElementChild.remove();
  $("events-note").textContent = "";
  if (e.kind === "plan" && !$("plan-card").hidden) loadPlan();
}

// ---- catalog -------------------------------------------------------------------------------

function yesNo(value) {
  return value === null || value === undefined ? "–" : value ? "yes" : "no";
}

function table(id, headers, rows) {
  const head = el("tr", {}, ...headers.map(([h, isNum]) => el("th", { class: isNum ? "num" : null, text: h })));
  // The first column (a product's name) wraps so the figures stay in sight; on a phone each row
  // is a small card of labelled cells (see .table.stack), so no column is ever cut off.
  const cls = (i) => (i === 0 ? "name" : headers[i][1] ? "num" : null);
  const body = rows.map((cells) => el("tr", {}, ...cells.map((c, i) => el("td", { class: cls(i), "data-label": headers[i][0], text: c }))));
  $(id).replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
}

export async function loadCatalog() {
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
