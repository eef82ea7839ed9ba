// The offline API reference: draws /openapi.json as a list of endpoints, with a "try it" for GETs.
"use strict";

(function () {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function refName(schema) {
    return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
  }

  function typeOf(schema) {
    if (!schema) return "";
    if (schema.$ref) return refName(schema);
    if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    const bounds = [];
    for (const key of ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) {
      if (schema[key] !== undefined) bounds.push(`${key} ${schema[key]}`);
    }
    const base = schema.type === "array" ? `${typeOf(schema.items)}[]` : schema.type || "any";
    return bounds.length ? `${base} (${bounds.join(", ")})` : base;
  }

  function parameters(op) {
    const params = op.parameters || [];
    if (!params.length) return null;
    const rows = params.map((p) =>
      el("tr", {},
        el("td", { class: "name" }, el("code", { text: p.name })),
        el("td", { "data-label": "in", text: p.in + (p.required ? ", required" : "") }),
        el("td", { "data-label": "type", text: typeOf(p.schema) + (p.schema && p.schema.default !== undefined ? ` = ${JSON.stringify(p.schema.default)}` : "") }),
        el("td", { "data-label": "description", text: p.description || (p.schema && p.schema.description) || "" })
      )
    );
    const head = el("tr", {}, ...["name", "in", "type", "description"].map((h) => el("th", { text: h })));
    return el("div", { class: "scroll" }, el("table", { class: "table stack" }, el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  function tryIt(path, op) {
    const form = el("form", { class: "try" });
    const inputs = [];
    for (const p of op.parameters || []) {
      if (p.in !== "query") continue;
      const input = el("input", { name: p.name, placeholder: p.name });
      inputs.push(input);
      form.append(el("label", {}, input));
    }
    const out = el("pre", { hidden: "" });
    form.append(el("button", { type: "submit", text: "Send" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      for (const input of inputs) if (input.value) query.set(input.name, input.value);
      const url = query.toString() ? `${path}?${query}` : path;
      const response = await fetch(url, { credentials: "same-origin" });
      const text = await response.text();
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch (e) {
        shown = text;
      }
      out.hidden = false;
      out.textContent = `${response.status} ${response.statusText}\n${shown.slice(0, 20000)}`;
    });
    return el("div", {}, form, out);
  }

  function endpoint(path, method, op) {
    const details = el("details", { class: "card endpoint" });
    details.append(
      el("summary", {},
        el("span", { class: `method ${method}`, text: method.toUpperCase() }),
        el("code", { class: "path", text: path }),
        el("span", { class: "muted", text: op.summary || "" })
      )
    );
    if (op.description) {
      details.append(el("p", { class: "description", text: op.description.replace(/([^\n])\n(?!\n)/g, "$1 ") }));
    }
    const params = parameters(op);
    if (params) details.append(el("h3", { text: "Parameters" }), params);
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) details.append(el("h3", { text: "Body" }), el("p", {}, el("code", { text: typeOf(body.schema) })));
    const answers = Object.entries(op.responses || {}).map(([code, r]) => {
      const json = r.content && r.content["application/json"];
      const type = json && json.schema ? ` (${typeOf(json.schema)})` : "";
      return el("li", { text: `${code}: ${r.description || ""}${type}` });
    });
    if (answers.length) details.append(el("h3", { text: "Answers" }), el("ul", {}, ...answers));
    if (method === "get") details.append(el("h3", { text: "Try it" }), tryIt(path, op));
    return details;
  }

  async function main() {
    const response = await fetch("/openapi.json");
    const spec = await response.json();
    document.getElementById("api-title").textContent = `${spec.info.title} ${spec.info.version}`;
    // Paragraphs stay apart; the source's line wrapping does not.
    const text = (spec.info.description || "").replace(/([^\n])\n(?!\n)/g, "$1 ");
    document.getElementById("api-description").textContent = text;
    const holder = document.getElementById("endpoints");
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) holder.append(endpoint(path, method, op));
    }
    holder.append(
      endpoint("/api/stream", "websocket", {
        summary: "Live status and events",
        description:
          'A WebSocket. Sends {"type": "status", "data": <as GET /api/status>} at once and at every ' +
          'tick, and {"type": "event", "data": {at, kind, message, device, data}} for every event. ' +
          "Needs a login (cookie or Authorization: Bearer) unless the server allows public reads.",
      })
    );
    const schemas = document.getElementById("schemas");
    for (const [name, schema] of Object.entries((spec.components && spec.components.schemas) || {})) {
      const details = el("details", {}, el("summary", {}, el("code", { text: name })));
      details.append(el("pre", { text: JSON.stringify(schema, null, 2) }));
      schemas.append(details);
    }
  }

  document.addEventListener("DOMContentLoaded", main);
})();
