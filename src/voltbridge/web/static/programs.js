// Grid events of the utility programs: window, payment, and the household's answer to each.
import { $, api, el, money, num, state, when } from "./common.js";

const STATE_WORDS = { upcoming: "upcoming", active: "now", over: "over" };
const KIND_WORDS = { export: "export to the grid", reduce: "draw less from the grid" };

export async function loadGridEvents() {
  let answer;
  try {
    answer = await api("/api/grid-events");
  } catch (error) {
    $("grid-events-note").textContent = error.message;
    return;
  }
  renderGridEvents(answer.events);
}

function renderGridEvents(events) {
  const list = $("grid-events");
  // Upcoming and active first, then the month's past ones, newest first.
  const live = events.filter((e) => e.state !== "over");
  const past = events.filter((e) => e.state === "over").reverse();
  list.replaceChildren(...live.concat(past).map(eventRow));
  $("grid-events-note").textContent = events.length
    ? ""
    : "No grid events. A utility program's events appear here when its server (VTN) sends one.";
}

function eventRow(e) {
  const pay = e.payment_per_kwh ? `${money(e.payment_per_kwh)} per kWh` : "no payment per kWh";
  const asked = e.requested_kw ? `, ${num(e.requested_kw, 1)} kW asked` : "";
  const answer = e.taking_part ? "taking part" : "skipping";
  const item = el(
    "li",
    { "data-event": e.event_id, "data-state": e.state },
    el("span", { class: "kind", text: `${e.program} · ${STATE_WORDS[e.state]}` }),
    el("time", { datetime: e.start, text: `${when(e.start, true)} – ${when(e.end, true)}` }),
    el("span", { class: "message", text: `${KIND_WORDS[e.kind]}: ${pay}${asked}; ${answer}` }),
  );
  if (e.state !== "over" && state.me && state.me.can_write) {
    const next = e.taking_part ? "skip" : "take_part";
    const button = el("button", {
      type: "button",
      class: "link-button",
      "data-choice": next,
      text: next === "skip" ? "Skip this one" : "Take part",
    });
    button.addEventListener("click", () => choose(e.event_id, next, button));
    item.append(button);
  }
  return item;
}

async function choose(eventId, choice, button) {
  button.disabled = true;
  try {
    await api(`/api/grid-events/${encodeURIComponent(eventId)}/choice`, { method: "PUT", json: { choice } });
  } catch (error) {
    $("grid-events-note").textContent = error.message;
  }
  await loadGridEvents();
}
