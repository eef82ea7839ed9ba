// voltbridge dashboard: shows the controller's live status, plan, money, events and settings.
// Plain JavaScript modules, no build step. This one runs the page: login, the stream, what to load.
import { $, MONEY_MS, PAGES, POLL_MS, api, hooks, notice, state } from "./common.js";
import { loadHistory, loadPlan } from "./charts.js";
import { renderGridState, renderStatus } from "./live.js";
import { addEvent, loadCatalog, loadEvents, loadMoney, loadSessions } from "./records.js";
import { loadGridEvents } from "./programs.js";
import { loadSettings, saveSettings } from "./settings.js";
import { announceOutage, loadOutages } from "./storm.js";

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
    const said = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    if (error.status === 429) $("login-error").textContent = `${said}.`;
    else if (error.status === 401) $("login-error").textContent = "Wrong password.";
    else $("login-error").textContent = said;
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
    else if (item.type === "event") {
      addEvent(item.data);
      if (item.data.kind === "program" && !$("grid-events-card").hidden) loadGridEvents();
      const code = item.data.data ? item.data.data.code : null;
      if (code === "storm-watch" && !$("storm-card").hidden) loadOutages();
    }
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
  if (page === "/") loads.push(loadStatus(), loadOutages());
  if (page === "/" || page === "/plan") loads.push(loadPlan());
  if (page === "/" || page === "/money") loads.push(loadMoney());
  if (page === "/money") loads.push(loadSessions());
  if (page === "/" || page === "/events") loads.push(loadEvents(), loadGridEvents());
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

hooks.unauthorized = showLogin;

document.addEventListener("DOMContentLoaded", () => {
  showPage();
  hidePage();
  $("login-form").addEventListener("submit", login);
  $("login-button").addEventListener("click", () => showLogin());
  $("logout-button").addEventListener("click", logout);
  $("settings-form").addEventListener("submit", saveSettings);
  $("storm-form").addEventListener("submit", announceOutage);
  $("events-kind").addEventListener("change", loadEvents);
  $("history-range").addEventListener("change", loadHistory);
  boot();
});
