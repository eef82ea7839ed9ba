// Storm watch: whether it is on (the announced outage, the SoC held per storage, filling or
// full), the announced outages, and a form to announce or cancel one (households who may write).
import { $, api, el, fromLocalInput, num, state, timeFormat } from "./common.js";

// A storage within this of its target counts as full [kWh] (the controller holds the target;
// a reading a few Wh below it is not "filling").
const FULL_MARGIN_KWH = 0.25;

function at(iso) {
  if (!iso) return "–";
  const format = timeFormat({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  return format.format(new Date(iso));
}

function storedKwh(status, name) {
  if (name === "battery") return status.battery ? status.battery.soc_kwh : null;
  const car = status.vehicles ? status.vehicles[name] : null;
  return car ? car.soc_kwh : null;
}

// The last status shown and how many outages /api/outages listed (it answers at once after an
// announcement; the status says so at the controller's next tick).
let shown = null;
let listed = 0;

// The live part, from /api/status (and the stream): on or off, each storage's target.
export function renderStorm(status) {
  shown = status;
  const watch = status.storm_watch || { active: false, target_kwh: {}, announced: 0 };
  if (!status.storm_watch) shown = null;
  const line = $("storm-line");
  const targets = $("storm-targets");
  line.dataset.state = watch.active ? "on" : "off";
  if (!watch.active) {
    line.textContent = Math.max(watch.announced, listed)
      ? "Storm watch is off: it starts 48 h before the announced outage."
      : "Storm watch is off: no outage is announced.";
    targets.replaceChildren();
    return;
  }
  const rows = Object.entries(watch.target_kwh).map(([name, target]) => {
    const soc = storedKwh(status, name);
    const word = soc === null || soc === undefined ? "no reading" : soc >= target - FULL_MARGIN_KWH ? "full" : "filling";
    return el("li", { "data-storage": name, "data-fill": word },
      el("span", { text: name }),
      el("span", { class: "num", text: `${num(soc, 1)} of ${num(target, 1)} kWh · ${word}` }),
    );
  });
  const states = rows.map((r) => r.dataset.fill);
  const overall = !states.length ? "" : states.every((s) => s === "full") ? " Everything is full." : " Filling before it.";
  line.textContent = `Storm watch is on: outage expected ${at(watch.start)} to ${at(watch.end)}.${overall}`;
  targets.replaceChildren(...rows);
}

// The announced outages, each with a cancel button for those who may write.
export async function loadOutages() {
  let outages;
  try {
    outages = await api("/api/outages");
  } catch (error) {
    $("storm-result").textContent = error.message;
    return;
  }
  const canWrite = Boolean(state.me && state.me.can_write);
  $("storm-form").hidden = !canWrite;
  const items = outages.map((o) => {
    const item = el("li", { "data-outage": o.outage_id },
      el("span", { class: "kind", text: `announced · ${o.source}` }),
      el("span", { class: "message", text: `Outage expected ${at(o.start)} for up to ${num(o.hours, 0)} h` }),
    );
    if (canWrite) {
      const button = el("button", { type: "button", class: "link-button", "data-cancel": o.outage_id, text: "Cancel" });
      button.addEventListener("click", () => cancel(o.outage_id, button));
      item.append(button);
    }
    return item;
  });
  $("outages").replaceChildren(...items);
  listed = outages.length;
  renderStorm(shown || {});
  $("outages").dataset.loaded = String(outages.length);
}

async function cancel(outageId, button) {
  button.disabled = true;
  const result = $("storm-result");
  try {
    await api(`/api/outages/${encodeURIComponent(outageId)}`, { method: "DELETE" });
    result.className = "ok";
    result.textContent = "Outage cancelled.";
  } catch (error) {
    result.className = "error";
    result.textContent = error.message;
  }
  await loadOutages();
}

export async function announceOutage(event) {
  event.preventDefault();
  const form = $("storm-form");
  const result = $("storm-result");
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const start = $("storm-start");
  const hours = $("storm-hours");
  const body = {};
  if (start.value) body.start = fromLocalInput(start.value);
  if (hours.value !== "") body.hours = Number(hours.value);
  result.className = "muted";
  result.textContent = "Announcing…";
  try {
    await api("/api/outages", { method: "POST", json: body });
    result.className = "ok";
    result.textContent = "Outage announced: storm watch fills car and battery before it.";
    form.reset();
  } catch (error) {
    result.className = "error";
    if (error.status === 422 && Array.isArray(error.body.detail)) {
      for (const problem of error.body.detail) {
        const input = form.querySelector(`[name="${CSS.escape(problem.field)}"]`);
        if (input) input.setAttribute("aria-invalid", "true");
      }
      result.textContent = error.body.message || error.message;
    } else {
      result.textContent = error.message;
    }
  }
  await loadOutages();
}
