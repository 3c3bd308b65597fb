// GET /api/docs: the API's reference for people, drawn on the server from the OpenAPI document
// (GET /api/v1/openapi.json) with the site's own frame and Bootstrap: no script and nothing from
// another site, so the Content-Security-Policy stays as strict as on every other page.
import type { FastifyInstance } from "fastify";
import { html, type SafeHtml } from "../web/html.js";
import { sendPage } from "../web/respond.js";
import { layout } from "../web/views/layout.js";

/** The parts of a JSON Schema the page shows. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  not?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
  title?: string;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface MediaType {
  schema?: Schema;
}

interface Response {
  description?: string;
  headers?: Record<string, { description?: string; schema?: Schema }>;
  content?: Record<string, MediaType>;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, Response>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths?: Record<string, Record<string, Operation>>;
  components?: {
    schemas?: Record<string, Schema>;
    securitySchemes?: Record<string, { type: string; scheme?: string; description?: string }>;
  };
  security?: Record<string, string[]>[];
}

const JSON_URL = "/api/v1/openapi.json";
const methodOrder = ["get", "post", "put", "patch", "delete"];

/** The little Markdown the document's descriptions use: `code`, **bold** and *emphasis*, in paragraphs. */
export function inlineMarkdown(text: string): SafeHtml {
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*|\*[^*\s][^*]*\*)/);
  return html`${parts.map((part) => {
    if (/^`[^`]+`$/.test(part)) return html`<code>${part.slice(1, -1)}</code>`;
    if (/^\*\*[^*]+\*\*$/.test(part)) return html`<strong>${part.slice(2, -2)}</strong>`;
    if (/^\*[^*]+\*$/.test(part)) return html`<em>${part.slice(1, -1)}</em>`;
    return part;
  })}`;
}

function paragraphs(text: string | undefined, className = ""): SafeHtml | null {
  if (!text) return null;
  return html`${text
    .split(/\n\s*\n/)
    .map((p) => html`<p${className ? html` class="${className}"` : null}>${inlineMarkdown(p.trim())}</p>`)}`;
}

function refName(ref: string): string {
  return ref.replace(/^#\/components\/schemas\//, "");
}

function schemaAnchor(name: string): string {
  return `schema-${name}`;
}

/** "integer", "string (date-time) or null", "array of User" (a link), … */
export function typeText(schema: Schema | undefined): SafeHtml | string {
  if (!schema) return "any";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    return html`<a href="#${schemaAnchor(name)}">${name}</a>`;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const named = types
    .filter((t) => t !== "null")
    .map((t) =>
      t === "array"
        ? html`array of ${typeText(schema.items)}`
        : t === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object"
          ? html`object of ${typeText(schema.additionalProperties)}`
          : schema.format
            ? `${t} (${schema.format})`
            : t,
    );
  if (named.length === 0) named.push(types.includes("null") ? "null" : "any");
  return html`${named.map((n, i) => html`${i > 0 ? " or " : null}${n}`)}${types.includes("null") && types.length > 1 ? " or null" : null}`;
}

function literal(value: unknown): string {
  return JSON.stringify(value);
}

/** The rules a value must follow, in words: "1 to 500 characters", "one of: posted, pending". */
export function constraints(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const rules: string[] = [];
  if (schema.enum) rules.push(`one of: ${schema.enum.map(literal).join(", ")}`);
  if (schema.const !== undefined) rules.push(`always ${literal(schema.const)}`);
  if (schema.not?.const !== undefined) rules.push(`not ${literal(schema.not.const)}`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) {
    rules.push(`${schema.minimum} to ${schema.maximum}`);
  } else if (schema.minimum !== undefined) rules.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) rules.push(`at most ${schema.maximum}`);
  if (schema.minLength !== undefined && schema.maxLength !== undefined) {
    rules.push(`${schema.minLength} to ${schema.maxLength} characters`);
  } else if (schema.maxLength !== undefined) rules.push(`at most ${schema.maxLength} characters`);
  else if (schema.minLength !== undefined) rules.push(`at least ${schema.minLength} characters`);
  if (schema.pattern !== undefined) rules.push(`matches ${schema.pattern}`);
  if (schema.default !== undefined) rules.push(`default ${literal(schema.default)}`);
  return rules;
}

function describe(description: string | undefined, rules: string[]): SafeHtml {
  return html`${description ? inlineMarkdown(description) : null}${
    rules.length
      ? html`${description ? html`<br>` : null}<span class="text-body-secondary small">${rules.map(
          (rule, i) =>
            html`${i > 0 ? "; " : null}${rule.startsWith("matches ") ? html`matches <code>${rule.slice(8)}</code>` : rule}`,
        )}</span>`
      : null
  }`;
}

function badge(text: string, className: string): SafeHtml {
  return html`<span class="badge ${className}">${text}</span>`;
}

/**
 * A field or parameter as a reference reads it: its name, then its type and whether it is
 * required, on a line of their own; its description beside it (below it, on a phone). A list of
 * Bootstrap rows rather than a table, so every list on the page splits its columns alike.
 */
function nameTerm(
  name: string,
  schema: Schema | undefined,
  required: boolean | null,
  where?: string,
): SafeHtml {
  return html`<dt class="col-md-3 fw-normal text-break"><code>${name}</code>
<div class="small text-body-secondary">${where ? `${where} · ` : null}${typeText(schema)}${
    required === null ? null : required ? html` · <strong class="text-body">required</strong>` : " · optional"
  }</div></dt>`;
}

function item(term: SafeHtml, description: SafeHtml): SafeHtml {
  return html`<div class="row border-top py-2 mx-0">${term}<dd class="col-md-9 mb-0 text-break">${description}</dd></div>`;
}

function fieldList(label: string, items: SafeHtml[]): SafeHtml {
  return html`<dl class="mb-2 border-bottom" aria-label="${label}">${items}</dl>`;
}

/**
 * An object's fields. For an answer every field is always sent, so "required" would say nothing:
 * the table says so once instead of on every row.
 */
function propertiesTable(schema: Schema, caption: string, answer: boolean): SafeHtml {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  if (properties.length === 0) {
    return html`<p class="mb-2">${typeText(schema)}${schema.description ? html` — ${inlineMarkdown(schema.description)}` : null}</p>`;
  }
  const allSent = answer && properties.every(([name]) => required.has(name));
  return html`${fieldList(
    caption,
    properties.map(([name, property]) =>
      item(
        nameTerm(name, property, allSent ? null : required.has(name)),
        describe(property.description, constraints(property)),
      ),
    ),
  )}${
    allSent
      ? html`<p class="small text-body-secondary mb-2">Every field is always sent (<code>null</code> when empty), and no other.</p>`
      : schema.additionalProperties === false
        ? html`<p class="small text-body-secondary mb-2">No other field is accepted.</p>`
        : null
  }`;
}

function methodBadge(method: string): SafeHtml {
  return badge(method.toUpperCase(), method === "get" ? "text-bg-primary" : "text-bg-success");
}

/** Which key an operation needs, from its security requirement (`write` is the read-write scope). */
function accessText(operation: Operation, document: OpenApiDocument): SafeHtml {
  const security = operation.security ?? document.security ?? [];
  if (security.length === 0) return html`no key.`;
  const roles = security.flatMap((requirement) => Object.values(requirement).flat());
  return roles.includes("write")
    ? html`a <strong>read-write</strong> key, as <code>Authorization: Bearer KEY</code>.`
    : html`any key (read or read-write), as <code>Authorization: Bearer KEY</code>.`;
}

function parametersSection(operation: Operation): SafeHtml | null {
  const parameters = operation.parameters ?? [];
  if (parameters.length === 0) return null;
  return html`<h4 class="h6 mt-3">Parameters</h4>
${fieldList(
  `Parameters of ${operation.summary ?? ""}`,
  parameters.map((p) =>
    item(
      nameTerm(p.name, p.schema, p.required === true, `in ${p.in}`),
      describe(p.description ?? p.schema?.description, constraints(p.schema)),
    ),
  ),
)}`;
}

function requestBodySection(operation: Operation): SafeHtml | null {
  const body = operation.requestBody;
  if (!body?.content) return null;
  return html`<h4 class="h6 mt-3">Request body</h4>
${Object.entries(body.content).map(
  ([type, media]) => html`<p class="mb-1"><code>${type}</code>${body.required ? ", required" : null}</p>
${
  media.schema?.$ref
    ? html`<p class="mb-2">${typeText(media.schema)}</p>`
    : media.schema
      ? propertiesTable(media.schema, `Request body of ${operation.summary ?? ""}`, false)
      : null
}`,
)}`;
}

/** Each answer: its status and body's schema, then what it means and the headers it carries. */
function responsesSection(operation: Operation): SafeHtml {
  const responses = Object.entries(operation.responses ?? {});
  return html`<h4 class="h6 mt-3">Responses</h4>
${fieldList(
  `Responses of ${operation.summary ?? ""}`,
  responses.map(([status, response]) => {
    const schema = response.content?.["application/json"]?.schema;
    const headers = Object.entries(response.headers ?? {});
    return item(
      html`<dt class="col-md-3"><span class="fw-semibold">${status}</span>${schema ? html` <span class="small fw-normal">${typeText(schema)}</span>` : null}</dt>`,
      html`${response.description ? inlineMarkdown(response.description) : null}${headers.map(
        ([name, header]) =>
          html`<div class="small mt-1">Header <code>${name}</code>${header.description ? html`: ${inlineMarkdown(header.description)}` : null}</div>`,
      )}`,
    );
  }),
)}`;
}

interface Listed {
  method: string;
  path: string;
  operation: Operation;
  anchor: string;
}

function operationsOf(document: OpenApiDocument): Listed[] {
  const listed: Listed[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of methodOrder) {
      const operation = item[method];
      if (operation) {
        listed.push({ method, path, operation, anchor: operation.operationId ?? `${method}-${path}` });
      }
    }
  }
  return listed;
}

function operationCard(entry: Listed, document: OpenApiDocument): SafeHtml {
  const { method, path, operation } = entry;
  return html`<section class="card shadow-sm mb-4" id="${entry.anchor}" aria-labelledby="${entry.anchor}-title">
<div class="card-body">
<h3 class="h5 mb-2" id="${entry.anchor}-title">${operation.summary ?? entry.anchor}</h3>
<p class="mb-2 d-flex flex-wrap align-items-center gap-2">${methodBadge(method)} <code class="text-break">${path}</code></p>
${paragraphs(operation.description)}
<p class="small mb-0"><span class="fw-semibold">Needs</span> ${accessText(operation, document)}
${operation.operationId ? html`<span class="text-body-secondary">Operation id: <code>${operation.operationId}</code></span>` : null}</p>
${parametersSection(operation)}
${requestBodySection(operation)}
${responsesSection(operation)}
</div></section>`;
}

function schemaCard(name: string, schema: Schema): SafeHtml {
  return html`<section class="card shadow-sm mb-4" id="${schemaAnchor(name)}" aria-labelledby="${schemaAnchor(name)}-title">
<div class="card-body">
<h3 class="h5" id="${schemaAnchor(name)}-title"><code>${name}</code></h3>
${paragraphs(schema.description)}
${propertiesTable({ ...schema, description: undefined }, `Fields of ${name}`, true)}
<details class="mt-2"><summary>JSON Schema</summary>
<pre class="bg-body-tertiary border rounded p-2 mt-2 mb-0 small outbox-text">${JSON.stringify(schema, null, 2)}</pre>
</details>
</div></section>`;
}

export function apiDocsPage(document: OpenApiDocument): SafeHtml {
  const operations = operationsOf(document);
  const tags = document.tags ?? [];
  const tagOf = (entry: Listed) => entry.operation.tags?.[0] ?? "Other";
  const groups = [...tags.map((t) => t.name), ...new Set(operations.map(tagOf))].filter(
    (name, i, all) => all.indexOf(name) === i && operations.some((entry) => tagOf(entry) === name),
  );
  const schemes = Object.entries(document.components?.securitySchemes ?? {});
  const schemas = Object.entries(document.components?.schemas ?? {});
  return layout(
    { title: `${document.info.title} reference`, csrfToken: "" },
    html`<div class="admin-area">
<h1 class="h3 mb-1">${document.info.title}</h1>
<p class="text-body-secondary">Version ${document.info.version} · OpenAPI ${document.openapi} ·
  <a href="${JSON_URL}">the document as JSON</a></p>
${paragraphs(document.info.description)}

<nav aria-labelledby="contents-title" class="card shadow-sm mb-4"><div class="card-body">
<h2 class="h5" id="contents-title">Operations</h2>
${groups.map(
  (group) => html`<h3 class="h6 mt-3 mb-2">${group}</h3>
<ul class="list-unstyled mb-0">${operations
    .filter((entry) => tagOf(entry) === group)
    .map(
      (entry) =>
        html`<li class="mb-1">${methodBadge(entry.method)} <a href="#${entry.anchor}" class="text-break"><code>${entry.path}</code></a> <span class="text-body-secondary">${entry.operation.summary ?? ""}</span></li>`,
    )}</ul>`,
)}
<p class="mt-3 mb-0"><a href="#authentication">Authentication</a> · <a href="#schemas">Schemas</a></p>
</div></nav>

<section id="authentication" aria-labelledby="authentication-title" class="mb-4">
<h2 class="h4" id="authentication-title">Authentication</h2>
${schemes.map(
  ([
    name,
    scheme,
  ]) => html`<p class="mb-1"><code>${name}</code>: ${scheme.type}${scheme.scheme ? html`, scheme <code>${scheme.scheme}</code>` : null}</p>
${paragraphs(scheme.description)}`,
)}
</section>

${groups.map(
  (group) => html`<section aria-labelledby="group-${group.replace(/\W+/g, "-")}" class="mb-2">
<h2 class="h4" id="group-${group.replace(/\W+/g, "-")}">${group}</h2>
${paragraphs(tags.find((t) => t.name === group)?.description, "text-body-secondary")}
${operations.filter((entry) => tagOf(entry) === group).map((entry) => operationCard(entry, document))}
</section>`,
)}

<section id="schemas" aria-labelledby="schemas-title">
<h2 class="h4" id="schemas-title">Schemas</h2>
${schemas.map(([name, schema]) => schemaCard(name, schema))}
</section>
</div>`,
  );
}

/** GET /api/docs, outside the pages' scope (no session or CSRF): the same page for everyone. */
export function apiDocsRoutes(app: FastifyInstance, document: () => OpenApiDocument): void {
  let page: SafeHtml | undefined;
  app.get("/api/docs", async (_request, reply) => {
    // The document is fixed once the app is ready: drawn once.
    page ??= apiDocsPage(document());
    reply.header("cache-control", "no-cache");
    return sendPage(reply, page);
  });
}
