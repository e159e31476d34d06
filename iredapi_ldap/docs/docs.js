// Lists every endpoint of ../openapi.json: method, path, summary, parameters. No library.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function resolve(doc, obj) {
  while (obj && obj.$ref) {
    obj = obj.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o[k], doc);
  }
  return obj;
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.oneOf) return schema.oneOf.map(typeOf).join(" | ");
  let text = schema.type || "";
  if (schema.minimum !== undefined) text += ` ≥ ${schema.minimum}`;
  if (schema.maximum !== undefined) text += ` ≤ ${schema.maximum}`;
  if (schema.maxLength !== undefined) text += ` (≤ ${schema.maxLength} chars)`;
  if (schema.pattern) text += ` /${schema.pattern}/`;
  return text;
}

function paramRows(op) {
  const rows = [];
  for (const p of op.parameters || []) {
    rows.push([p.name, "query", p.schema, p.required]);
  }
  const body = op.requestBody && op.requestBody.content["application/x-www-form-urlencoded"];
  if (body) {
    const required = body.schema.required || [];
    for (const [name, schema] of Object.entries(body.schema.properties)) {
      if (!schema.deprecated) rows.push([name, "body", schema, required.includes(name)]);
    }
  }
  return rows;
}

function paramTable(rows) {
  const table = el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"),
    el("th", {}, "type"), el("th", {}, "description")));
  for (const [name, where, schema, required] of rows) {
    const nameCell = el("td", { class: "name" }, name + (required ? " *" : ""));
    if (schema["x-legacy-names"]) {
      nameCell.append(el("div", { class: "legacy" }, "legacy: " + schema["x-legacy-names"].join(", ")));
    }
    table.append(el("tr", { class: "param" }, nameCell, el("td", {}, where),
      el("td", {}, typeOf(schema)), el("td", {}, schema.description || "")));
  }
  return table;
}

function render(doc) {
  const main = document.getElementById("endpoints");
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    const section = el("section", { class: "endpoint", "data-path": path });
    const pathParams = (item.parameters || []).map((p) => p.name);
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters") continue;
      operations += 1;
      const head = el("h2", { class: "operation" }, el("span", { class: "method " + method.toUpperCase() },
        method.toUpperCase()), el("span", { class: "path" }, path));
      if (op.security && op.security.length === 0) head.append(el("span", { class: "public" }, "no session"));
      section.append(head, el("div", { class: "summary" }, op.summary));
      const rows = paramRows(op);
      if (rows.length) section.append(paramTable(rows));
    }
    if (pathParams.length) section.append(el("div", { class: "legacy" }, "in the path: " + pathParams.join(", ")));
    main.append(section);
  }
  const codes = el("details", {}, el("summary", {}, "Error codes (_msg)"));
  const table = el("table", {});
  for (const [status, response] of Object.entries(doc.components.responses)) {
    table.append(el("tr", {}, el("td", {}, status.replace("Status", "")),
      el("td", {}, resolve(doc, response).description)));
  }
  codes.append(table);
  main.append(codes);
  document.getElementById("about").textContent =
    `${doc.info.title} ${doc.info.version}: ${Object.keys(doc.paths).length} paths, ` +
    `${operations} operations. ${doc.info.description}`;
}

function filter(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const section of document.querySelectorAll("section.endpoint")) {
    const hay = section.textContent.toLowerCase();
    section.hidden = !words.every((w) => hay.includes(w));
  }
}

fetch("openapi.json", { credentials: "same-origin" })
  .then((reply) => reply.json())
  .then((doc) => {
    render(doc);
    document.getElementById("filter").addEventListener("input", (e) => filter(e.target.value));
  })
  .catch((err) => { document.getElementById("about").textContent = "Cannot load openapi.json: " + err; });
