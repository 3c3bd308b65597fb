// The API's tests share this: keys made through the admin as staff would, and a client whose every
// answer is checked against the OpenAPI document the service serves (GET /api/v1/openapi.json). The
// document itself is first checked by an independent validator (@seriousme/openapi-schema-validator),
// then each response body by Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) against the schema
// the document gives for that path, method and status. An undocumented status fails the test.
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { OpenApiDocument } from "../../src/api/docs-page.js";
import type { Client } from "../support/app.js";

// ajv-formats is CommonJS: its plugin is also its own `default`.
const addFormats = ajvFormats.default;

export interface MadeKey {
  id: number;
  key: string;
  prefix: string;
  name: string;
}

/** A key made through /admin/api-keys/ by a logged-in staff client (JSON mode). */
export async function makeKey(staff: Client, name: string, scope: "read" | "write"): Promise<MadeKey> {
  const response = await staff.postJson("/admin/api-keys/", { name, scope });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

/** Checks API answers against the document; it remembers which operations and statuses it saw. */
export interface ContractChecker {
  document: OpenApiDocument;
  check(method: string, url: string, response: LightMyRequestResponse): void;
  /** "getUser 200", "createAdjustment 422", … */
  seen: Set<string>;
}

const OPENAPI_URL = "/api/v1/openapi.json";

/** The document the service serves, checked by the independent validator. */
export async function servedDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  const response = await app.inject({ method: "GET", url: OPENAPI_URL });
  assert.equal(response.statusCode, 200, response.body);
  const document = response.json() as OpenApiDocument;
  const result = await new Validator().validate(structuredClone(document) as never);
  assert.equal(
    result.valid,
    true,
    `the OpenAPI document is not valid: ${JSON.stringify(result.errors, null, 2)}`,
  );
  assert.equal(document.openapi, "3.1.0");
  return document;
}

function pointer(...parts: string[]): string {
  return parts.map((part) => part.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/** The document's path template that a concrete path matches (`/api/v1/users/{id}` for /api/v1/users/7). */
function templateOf(document: OpenApiDocument, path: string): string | null {
  for (const template of Object.keys(document.paths ?? {})) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}/?$`);
    if (pattern.test(path)) return template;
  }
  return null;
}

export async function contractChecker(app: FastifyInstance): Promise<ContractChecker> {
  const document = await servedDocument(app);
  // The whole document is added under its URL, so the schemas' "#/components/schemas/…" resolve in it.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document as object, OPENAPI_URL);
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  const seen = new Set<string>();
  return {
    document,
    seen,
    check(method, url, response) {
      const path = url.split("?")[0] ?? url;
      const template = templateOf(document, path);
      assert.ok(template, `${method} ${path} is not in the OpenAPI document`);
      const lower = method.toLowerCase();
      const operation = document.paths?.[template]?.[lower];
      assert.ok(operation, `${method} ${template} is not in the OpenAPI document`);
      const status = String(response.statusCode);
      const documented = operation.responses?.[status];
      assert.ok(
        documented,
        `${operation.operationId}: status ${status} is not documented (${response.body})`,
      );
      assert.match(String(response.headers["content-type"]), /^application\/json/);
      const id = pointer(
        "paths",
        template,
        lower,
        "responses",
        status,
        "content",
        "application/json",
        "schema",
      );
      let validate = validators.get(id);
      if (!validate) {
        validate = ajv.compile({ $ref: `${OPENAPI_URL}#/${id}` });
        validators.set(id, validate);
      }
      const body = response.json();
      assert.ok(
        validate(body),
        `${operation.operationId} ${status}: the body does not match the document: ${JSON.stringify(validate.errors)}\n${response.body}`,
      );
      for (const name of Object.keys(documented.headers ?? {})) {
        // Headers a response documents are sent (Idempotent-Replayed only on a repeat).
        if (name === "Idempotent-Replayed") continue;
        assert.ok(
          response.headers[name.toLowerCase()],
          `${operation.operationId} ${status}: no ${name} header`,
        );
      }
      seen.add(`${operation.operationId} ${status}`);
    },
  };
}

type Headers = Record<string, string>;

/** A program holding one key: every answer it gets is checked against the document. */
export class ApiClient {
  constructor(
    private readonly app: FastifyInstance,
    private readonly key: string | null,
    private readonly contract: ContractChecker,
  ) {}

  private headers(extra: Headers): Headers {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async get(url: string, headers: Headers = {}): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: "GET", url, headers: this.headers(headers) });
    this.contract.check("GET", url, response);
    return response;
  }

  async post(url: string, body?: unknown, headers: Headers = {}): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: "POST",
      url,
      headers: this.headers(
        body === undefined ? headers : { "content-type": "application/json", ...headers },
      ),
      ...(body === undefined ? {} : { payload: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    this.contract.check("POST", url, response);
    return response;
  }

  /** POST /api/v1/users/ID/adjustments with its Idempotency-Key. */
  adjust(userId: number, body: unknown, idempotencyKey: string): Promise<LightMyRequestResponse> {
    return this.post(`/api/v1/users/${userId}/adjustments`, body, { "idempotency-key": idempotencyKey });
  }
}
