// Use cases of /admin/webhooks/: checking an endpoint's form, and staff's changes to endpoints,
// each written with its audit entry in one transaction (the routes: src/web/routes/admin-webhooks.ts).
import { type AuditRecord, recordAudit } from "../admin/audit.js";
import type { Database, Queryable } from "../db/connection.js";
import { FieldErrorList } from "../errors.js";
import { eventTypeNames, isEventType } from "../events/events.js";
import { createEndpoint } from "./endpoints.js";
import { newWebhookSecret } from "./signing.js";
import { checkWebhookUrl, type TargetPolicy } from "./target-check.js";

export const DESCRIPTION_MAX_LENGTH = 200;
/** A form posts one checkbox per event type, named with this prefix (`event:user.created=on`). */
export const EVENT_FIELD_PREFIX = "event:";

/** What an endpoint's form holds once checked. */
export interface EndpointForm {
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
}

/**
 * The add and edit forms' fields, checked. A form posts one checkbox per event type
 * (`event:user.created=on`: the form parser keeps one value per name); JSON gives `event_types` as a
 * list. In JSON mode a field left out keeps `current`'s value, so `{"enabled": false}` turns an
 * endpoint off; a form always sends every field, and an unticked box is off.
 */
export function checkEndpointForm(
  input: Record<string, unknown>,
  options: { json: boolean; policy: TargetPolicy; current?: EndpointForm },
): EndpointForm {
  const { json, current } = options;
  const errors = new FieldErrorList();
  const given = (name: string) => !(json && current && input[name] === undefined);

  let url = current?.url ?? "";
  if (given("url")) {
    const text = typeof input.url === "string" ? input.url.trim() : "";
    if (text === "") errors.add("url", "Enter the address events are sent to.");
    else {
      const checked = checkWebhookUrl(text, options.policy);
      if (checked.ok) url = checked.url.href;
      else errors.add("url", checked.reason);
    }
  }

  let description = current?.description ?? "";
  if (given("description")) {
    const value = input.description ?? "";
    if (typeof value !== "string") errors.add("description", "Enter the description as text.");
    else if (value.trim().length > DESCRIPTION_MAX_LENGTH) {
      errors.add("description", `Keep the description to ${DESCRIPTION_MAX_LENGTH} characters.`);
    } else description = value.trim();
  }

  let eventTypes = current?.eventTypes ?? [];
  if (given("event_types")) {
    const chosen: unknown[] = json
      ? input.event_types === undefined
        ? []
        : [input.event_types].flat()
      : tickedTypes(input);
    const unknown = chosen.filter((type) => typeof type !== "string" || !isEventType(type));
    if (unknown.length > 0) {
      const names = unknown.map((type) => (typeof type === "string" ? type : JSON.stringify(type)));
      errors.add("event_types", `Unknown event type: ${names.join(", ")}.`);
    } else if (chosen.length === 0) {
      errors.add("event_types", "Choose at least one event type.");
    } else {
      // Once each, in the order events.ts lists them, whatever order they came in.
      eventTypes = eventTypeNames.filter((name) => chosen.includes(name));
    }
  }

  let enabled = current?.enabled ?? true;
  if (json) {
    if (input.enabled !== undefined) {
      if (typeof input.enabled !== "boolean") errors.add("enabled", "Give enabled as true or false.");
      else enabled = input.enabled;
    }
  } else if (current) {
    enabled = input.enabled === "on";
  }

  errors.throwIfAny();
  return { url, description, eventTypes, enabled };
}

/** The event types a form's checkboxes ticked, known or not. */
export function tickedTypes(input: Record<string, unknown>): string[] {
  return Object.keys(input)
    .filter((name) => name.startsWith(EVENT_FIELD_PREFIX))
    .map((name) => name.slice(EVENT_FIELD_PREFIX.length));
}

// The changes with their audit entries, each in one transaction: an entry is never written for a
// change that rolled back, and a change never lands without its entry.

export async function addEndpoint(
  db: Database,
  staffId: number,
  form: EndpointForm,
): Promise<{ id: number; secret: string }> {
  const secret = newWebhookSecret();
  const id = await db.transaction(async (tx) => {
    const id = await createEndpoint(tx, { ...form, secret, createdById: staffId });
    await recordAudit(tx, {
      actorId: staffId,
      action: "webhook_endpoint_created",
      details: { endpoint_id: id, url: form.url, event_types: form.eventTypes },
    });
    return id;
  });
  return { id, secret };
}

export async function audited(
  db: Database,
  change: (tx: Queryable) => Promise<boolean>,
  entry: AuditRecord,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await change(tx))) return false;
    await recordAudit(tx, entry);
    return true;
  });
}
