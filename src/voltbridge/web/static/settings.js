// The settings form: filled from /api/settings, sends only what changed with PATCH.
import { $, api, el, fromLocalInput, localInput, num, state } from "./common.js";

// ---- settings ------------------------------------------------------------------------------

const CAR_FIELDS = [
  ["departure", "Next departure (site time)", "datetime-local"],
  ["target_soc_pct", "Target at departure [%]", "number"],
  ["mobility_reserve_pct", "Mobility reserve, never used for the house [%]", "number"],
  ["outage_reserve_pct", "Reserve during this outage only [%]", "number"],
];

export async function loadSettings() {
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

export async function saveSettings(event) {
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
