// The dashboard's shared state and helpers: DOM building, number and time formatting, API calls.
// Every text from the server goes through textContent, never HTML.

// Set by app.js for modules that must reach back (a 401 anywhere shows the login form).
export const hooks = { unauthorized: () => {} };

export const SVG_NS = "http://www.w3.org/2000/svg";
export const PAGES = {
  "/": "/api/status",
  "/plan": "/api/plan",
  "/history": "/api/history",
  "/money": "/api/money",
  "/events": "/api/events",
  "/settings": "/api/settings",
  "/catalog": "/api/catalog",
};
export const POLL_MS = 5000;
export const MONEY_MS = 60000;
export const IDLE_KW = 0.05;

export const state = {
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

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, attrs, ...children) {
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

export function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function num(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toFixed(digits === undefined ? 1 : digits);
}

export function kw(value) {
  // null is unknown (a silent or stale device): say so, never show it as 0 kW
  if (value === null || value === undefined || Number.isNaN(value)) return "no data";
  return `${num(Math.abs(value), 1)} kW`;
}

export function money(value) {
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

export function timeFormat(options) {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: state.info.timezone, ...options });
  } catch (e) {
    return new Intl.DateTimeFormat(undefined, options);
  }
}

export function when(iso, withDay) {
  if (!iso) return "–";
  const options = { hour: "2-digit", minute: "2-digit" };
  if (withDay !== false) options.weekday = "short";
  return timeFormat(options).format(new Date(iso));
}

// Wall-clock parts of an instant in the site's time zone.
export function zoneParts(date) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: state.info.timezone, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const p of format.formatToParts(date)) parts[p.type] = p.value;
  return parts;
}

// "YYYY-MM-DD HH:MM:SS" in the site's zone, the form plotly draws without shifting.
export function localStamp(iso) {
  const p = zoneParts(new Date(iso));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

// "YYYY-MM-DDTHH:MM" for a datetime-local input, in the site's zone.
export function localInput(iso) {
  const p = zoneParts(new Date(iso));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

// The instant (ISO, UTC) of a datetime-local value read in the site's zone.
export function fromLocalInput(value) {
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

export function notice(text) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
}

export class HttpError extends Error {
  constructor(status, body) {
    super(typeof body.detail === "string" ? body.detail : body.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, options) {
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
