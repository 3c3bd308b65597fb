// /admin/webhooks/ over HTTP: staff only and CSRF-checked; an endpoint's secret shown once (never on
// the list or its page, never in a URL or cookie, kept in the database); addresses refused with the
// target check's reason; event types required; editing, turning off and on, rotating, deleting; test
// events and "Send again" making deliveries; the delivery log paged and filtered; every value escaped.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { auditRows, staffClient } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";

const PASSWORD = "correct horse battery";
const SECRET_PATTERN = /whsec_[A-Za-z0-9+/]{43}=/;

let t: TestApp;
let staff: Client;
let staffPage: Client;
let member: Client;

before(async () => {
  // Tests post to addresses on this machine, which the target check refuses unless allowed.
  t = await createTestApp({ WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
  staff = await staffClient(t, "hook_staff");
  staffPage = new Client(t.app, "html");
  await staffPage.post("/login/", { username: "hook_staff", password: PASSWORD });
  member = new Client(t.app);
  await member.signUp("hook_member");
});
after(async () => t.close());

interface EndpointJson {
  id: number;
  url: string;
  description: string;
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  secret?: string;
}

async function addEndpoint(body: Record<string, unknown> = {}): Promise<EndpointJson & { secret: string }> {
  const response = await staff.postJson("/admin/webhooks/", {
    url: "http://127.0.0.1:9/hooks",
    description: "",
    event_types: ["user.created"],
    ...body,
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

async function storedSecrets(id: number): Promise<{ secret: string; previous: string | null }> {
  const rows = await queryRows<{ secret: string; previous: string | null }>(
    t.deps.db,
    sql`SELECT secret, previous_secret AS previous FROM webhook_endpoints WHERE id = ${id}`,
  );
  const row = rows[0];
  if (!row) throw new Error(`no endpoint ${id}`);
  return row;
}

async function endpointCount(): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM webhook_endpoints`,
  );
  return Number(rows[0]?.n);
}

interface DeliveryJson {
  id: number;
  event_id: string;
  event_type: string;
  status: string;
  manual: boolean;
}

async function deliveriesOf(
  id: number,
  query = "",
): Promise<{ deliveries: DeliveryJson[]; next_page: string | null }> {
  const response = await staff.get(`/admin/webhooks/${id}/${query}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

/** A form's fields, as the page's checkboxes post them. */
function form(fields: { url: string; description?: string; types: string[]; enabled?: boolean }) {
  const body: Record<string, string> = { url: fields.url, description: fields.description ?? "" };
  for (const type of fields.types) body[`event:${type}`] = "on";
  if (fields.enabled) body.enabled = "on";
  return body;
}

describe("who may use /admin/webhooks/", () => {
  test("anonymous people log in first, members are refused, and nothing changes", async () => {
    const endpoint = await addEndpoint();
    const before = await endpointCount();
    const gets = [
      "/admin/webhooks/",
      `/admin/webhooks/${endpoint.id}/`,
      `/admin/webhooks/${endpoint.id}/delete/`,
    ];
    const posts = [
      "/admin/webhooks/",
      `/admin/webhooks/${endpoint.id}/`,
      `/admin/webhooks/${endpoint.id}/test/`,
      `/admin/webhooks/${endpoint.id}/rotate/`,
      `/admin/webhooks/${endpoint.id}/delete/`,
    ];
    const anonymousPage = new Client(t.app, "html");
    for (const url of gets) {
      const page = await anonymousPage.get(url);
      assert.equal(page.statusCode, 302, url);
      assert.equal(page.headers.location, `/login/?next=${url}`);
      assert.equal((await new Client(t.app).get(url)).statusCode, 401, url);
      assert.equal((await member.get(url)).statusCode, 403, url);
    }
    const memberPage = new Client(t.app, "html");
    await memberPage.post("/login/", { username: "hook_member", password: PASSWORD });
    assert.equal((await memberPage.get("/admin/webhooks/")).statusCode, 403);
    for (const url of posts) {
      const body = { url: "http://127.0.0.1:9/x", event_types: ["user.created"], confirm: "yes" };
      assert.equal((await member.postJson(url, body)).statusCode, 403, url);
      assert.equal((await new Client(t.app).postJson(url, body)).statusCode, 401, url);
    }
    assert.equal(await endpointCount(), before);
    assert.equal((await storedSecrets(endpoint.id)).secret, endpoint.secret, "not rotated");
    assert.deepEqual((await deliveriesOf(endpoint.id)).deliveries, [], "no test event");
  });

  test("a staff POST without the CSRF token is refused", async () => {
    const before = await endpointCount();
    const forged = await t.app.inject({
      method: "POST",
      url: "/admin/webhooks/",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        cookie: [...staff.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      },
      payload: JSON.stringify({ url: "http://127.0.0.1:9/x", event_types: ["user.created"] }),
    });
    assert.equal(forged.statusCode, 403);
    assert.equal(await endpointCount(), before);
  });
});

test("adding an endpoint shows its secret once: the answer has it, the database keeps it, no page shows it again", async () => {
  const json = await addEndpoint({
    url: "http://127.0.0.1:8080/hooks/json",
    description: "JSON client",
    event_types: ["referral.approved", "user.created", "user.created"],
  });
  assert.match(json.secret, SECRET_PATTERN);
  assert.equal(json.url, "http://127.0.0.1:8080/hooks/json");
  assert.deepEqual(json.event_types, ["user.created", "referral.approved"], "once each, in the listed order");
  assert.equal(json.enabled, true);
  assert.equal((await storedSecrets(json.id)).secret, json.secret);

  // From the form: the answer is the page itself (no redirect, so no URL or cookie carries the secret).
  const answer = await staffPage.post(
    "/admin/webhooks/",
    form({
      url: "http://127.0.0.1:8080/hooks/page",
      description: "CRM",
      types: ["reward.granted", "balance.adjusted"],
    }),
  );
  assert.equal(answer.statusCode, 201);
  assert.equal(answer.headers.location, undefined);
  assert.equal(answer.headers["cache-control"], "no-store");
  const secret = SECRET_PATTERN.exec(answer.body)?.[0];
  assert.ok(secret, "the page shows the secret");
  assert.match(answer.body, /it will not be shown again/);
  assert.match(answer.body, /id="webhook-secret">whsec_/);
  assert.match(answer.body, /user-select-all/, "one click selects it for copying");
  assert.doesNotMatch(String(answer.headers["set-cookie"] ?? ""), /whsec_/);
  const [added] = (await staff.get("/admin/webhooks/")).json().endpoints as EndpointJson[];
  assert.equal(added?.url, "http://127.0.0.1:8080/hooks/page");
  assert.deepEqual(added?.event_types, ["reward.granted", "balance.adjusted"]);
  assert.equal((await storedSecrets(added?.id ?? 0)).secret, secret);

  // Never again: not on the list, not on the endpoint's page, in either mode.
  for (const client of [staff, staffPage]) {
    for (const url of ["/admin/webhooks/", `/admin/webhooks/${added?.id}/`, `/admin/webhooks/${json.id}/`]) {
      const body = (await client.get(url)).body;
      assert.doesNotMatch(body, /whsec_/, url);
    }
  }
  const audit = (await auditRows(t.deps.db)).filter((row) => row.action === "webhook_endpoint_created");
  assert.equal(audit.at(-1)?.actor, "hook_staff");
  assert.equal(audit.at(-1)?.details.url, "http://127.0.0.1:8080/hooks/page");
  assert.doesNotMatch(JSON.stringify(audit), /whsec_/);
  // The audit page says which endpoint, linked, with its address.
  const home = await staffPage.get("/admin/");
  assert.match(
    home.body,
    new RegExp(
      `<a href="/admin/webhooks/${audit.at(-1)?.details.endpoint_id}/">endpoint \\d+</a>: http://127\\.0\\.0\\.1:8080/hooks/page`,
    ),
  );
  assert.doesNotMatch(home.body, /whsec_/);
});

test("an address the target check refuses is refused with its reason, and nothing is added", async () => {
  const before = await endpointCount();
  const cases: [string, RegExp][] = [
    [
      "http://169.254.169.254/latest/meta-data/",
      /169\.254\.169\.254, a private, local or reserved network address/,
    ],
    ["example.com/hooks", /Enter a full web address/],
    ["ftp://example.com/hooks", /must start with https:\/\/ or http:\/\//],
    ["http://[::1]:8080/", /points to ::1, a private, local or reserved network address/],
    ["", /Enter the address events are sent to/],
  ];
  for (const [url, reason] of cases) {
    const response = await staff.postJson("/admin/webhooks/", { url, event_types: ["user.created"] });
    assert.equal(response.statusCode, 400, url);
    const errors = response.json() as Record<string, string[]>;
    assert.deepEqual(Object.keys(errors), ["url"], url);
    assert.match(errors.url?.[0] ?? "", reason, url);
  }
  // The form shows the reason beside the field, with what was typed and ticked kept.
  const page = await staffPage.post(
    "/admin/webhooks/",
    form({ url: "http://169.254.169.254/", description: "metadata", types: ["user.deactivated"] }),
  );
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /id="new-url-errors"><div>The address points to 169\.254\.169\.254/);
  assert.match(
    page.body,
    /id="new-url" name="url" value="http:\/\/169\.254\.169\.254\/"[^>]*aria-describedby="new-url-errors new-url-help" aria-invalid="true"/,
  );
  assert.match(page.body, /value="metadata"/);
  assert.match(
    page.body,
    /name="event:user\.deactivated" value="on" id="new-event-user-deactivated"[^>]*checked/,
  );
  assert.doesNotMatch(page.body, /name="event:user\.created" [^>]*checked/);
  assert.doesNotMatch(page.body, /whsec_/);
  const noScheme = await staffPage.post(
    "/admin/webhooks/",
    form({ url: "hooks.example.com/in", types: ["user.created"] }),
  );
  assert.equal(noScheme.statusCode, 400);
  assert.match(noScheme.body, /Enter a full web address, such as https:\/\/example\.com\/webhooks\./);
  assert.equal(await endpointCount(), before);
});

test("at least one known event type is required", async () => {
  const before = await endpointCount();
  for (const event_types of [[], undefined, ["user.created", "user.exploded"], "nope"]) {
    const response = await staff.postJson("/admin/webhooks/", { url: "http://127.0.0.1:9/x", event_types });
    assert.equal(response.statusCode, 400, JSON.stringify(event_types));
    const errors = response.json() as Record<string, string[]>;
    assert.deepEqual(Object.keys(errors), ["event_types"]);
  }
  assert.deepEqual(
    (
      await staff.postJson("/admin/webhooks/", {
        url: "http://127.0.0.1:9/x",
        event_types: ["user.exploded"],
      })
    ).json(),
    { event_types: ["Unknown event type: user.exploded."] },
  );
  // The form: no box ticked, said beside the boxes, the fieldset pointing at it.
  const page = await staffPage.post("/admin/webhooks/", form({ url: "http://127.0.0.1:9/x", types: [] }));
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /<fieldset class="mb-3" aria-describedby="new-event_types-errors">/);
  assert.match(page.body, /id="new-event_types-errors"><div>Choose at least one event type\.<\/div>/);
  // A description over the limit is said too, with the rest.
  const long = await staff.postJson("/admin/webhooks/", {
    url: "http://127.0.0.1:9/x",
    description: "x".repeat(201),
    event_types: [],
  });
  assert.deepEqual(Object.keys(long.json()).sort(), ["description", "event_types"]);
  assert.equal(await endpointCount(), before);
});

test("staff edit an endpoint from its form; a JSON change keeps the fields it leaves out", async () => {
  const endpoint = await addEndpoint({ description: "before" });
  const saved = await staffPage.post(
    `/admin/webhooks/${endpoint.id}/`,
    form({
      url: "http://127.0.0.1:9/edited",
      description: "after",
      types: ["referral.created", "referral.rejected"],
      enabled: true,
    }),
  );
  assert.equal(saved.statusCode, 303);
  assert.equal(saved.headers.location, `/admin/webhooks/${endpoint.id}/?notice=saved`);
  const page = (await staffPage.get(saved.headers.location ?? "")).body;
  assert.match(page, /The endpoint is saved\./);
  assert.match(page, /<h1 class="h4 mb-1 text-break">http:\/\/127\.0\.0\.1:9\/edited<\/h1>/);
  assert.match(
    page,
    /name="event:referral\.created" value="on" id="edit-event-referral-created"[^>]*checked/,
  );
  assert.doesNotMatch(page, /name="event:user\.created" [^>]*checked/);
  let json = (await deliveriesOf(endpoint.id)) as unknown as { endpoint: EndpointJson };
  assert.equal(json.endpoint.description, "after");
  assert.deepEqual(json.endpoint.event_types, ["referral.created", "referral.rejected"]);

  const changed = await staff.postJson(`/admin/webhooks/${endpoint.id}/`, { description: "only this" });
  assert.equal(changed.statusCode, 200);
  assert.equal(changed.json().description, "only this");
  assert.equal(changed.json().url, "http://127.0.0.1:9/edited");
  assert.deepEqual(changed.json().event_types, ["referral.created", "referral.rejected"]);
  assert.equal(changed.json().enabled, true);

  // Refused: nothing saved, the form shown again with the reason.
  const refused = await staffPage.post(
    `/admin/webhooks/${endpoint.id}/`,
    form({ url: "http://10.0.0.1/", types: ["user.created"], enabled: true }),
  );
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /id="edit-url-errors"><div>The address points to 10\.0\.0\.1/);
  assert.match(refused.body, /Nothing was saved/);
  json = (await deliveriesOf(endpoint.id)) as unknown as { endpoint: EndpointJson };
  assert.equal(json.endpoint.url, "http://127.0.0.1:9/edited");
  assert.equal(
    (await staff.postJson(`/admin/webhooks/${endpoint.id}/`, { event_types: [] })).statusCode,
    400,
  );
  assert.equal((await staff.postJson("/admin/webhooks/999999/", { description: "x" })).statusCode, 404);
  const audit = (await auditRows(t.deps.db)).filter((row) => row.action === "webhook_endpoint_updated");
  assert.equal(audit.length, 2);
  assert.equal(audit.at(-1)?.details.endpoint_id, endpoint.id);
});

test("turning an endpoint off and on; one the service turned off is shown as an alert until it is on", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/switch" });
  const off = await staff.postJson(`/admin/webhooks/${endpoint.id}/`, { enabled: false });
  assert.equal(off.json().enabled, false);
  assert.equal(off.json().disabled_reason, null);
  // The form: an unticked switch is off, a ticked one on.
  const fields = { url: "http://127.0.0.1:9/switch", types: ["user.created"] };
  await staffPage.post(`/admin/webhooks/${endpoint.id}/`, form({ ...fields, enabled: true }));
  assert.equal(
    ((await deliveriesOf(endpoint.id)) as unknown as { endpoint: EndpointJson }).endpoint.enabled,
    true,
  );
  await staffPage.post(`/admin/webhooks/${endpoint.id}/`, form(fields));
  const page = (await staffPage.get(`/admin/webhooks/${endpoint.id}/`)).body;
  assert.match(page, /<span class="badge text-bg-secondary">off<\/span>/);
  assert.doesNotMatch(page, /id="edit-enabled"[^>]*checked/);
  assert.doesNotMatch(
    (await staffPage.get("/admin/webhooks/")).body,
    /id="failing-alert"/,
    "off by staff: no alert",
  );

  // As the worker leaves an endpoint that failed for WEBHOOK_GIVE_UP_HOURS.
  await t.deps.db.execute(sql`UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing',
    failing_since = now() - interval '72 hours' WHERE id = ${endpoint.id}`);
  const list = (await staffPage.get("/admin/webhooks/")).body;
  assert.match(list, /<div class="alert alert-danger" role="alert" id="failing-alert">/);
  assert.match(
    list,
    /href="\/admin\/webhooks\/\d+\/">http:\/\/127\.0\.0\.1:9\/switch<\/a> was turned off after failing\s+for 72 hours/,
  );
  assert.ok(list.indexOf("failing-alert") < list.indexOf('id="endpoints"'), "at the top of the page");
  const own = (await staffPage.get(`/admin/webhooks/${endpoint.id}/`)).body;
  assert.match(own, /Turned off after failing for 72 hours/);
  assert.match(own, /turned off: failing/);
  const listed = ((await staff.get("/admin/webhooks/")).json().endpoints as EndpointJson[]).find(
    (e) => e.id === endpoint.id,
  );
  assert.equal(listed?.disabled_reason, "failing");

  const on = await staff.postJson(`/admin/webhooks/${endpoint.id}/`, { enabled: true });
  assert.equal(on.json().enabled, true);
  assert.equal(on.json().disabled_reason, null);
  assert.doesNotMatch((await staffPage.get("/admin/webhooks/")).body, /id="failing-alert"/);
});

test("rotating the secret shows the new one once; the old one keeps signing for the overlap", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/rotate" });
  const rotated = await staff.postJson(`/admin/webhooks/${endpoint.id}/rotate/`, {});
  assert.equal(rotated.statusCode, 200);
  assert.equal(rotated.headers["cache-control"], "no-store");
  const { secret, previous_secret_expires_at } = rotated.json() as {
    secret: string;
    previous_secret_expires_at: string;
  };
  assert.match(secret, SECRET_PATTERN);
  assert.notEqual(secret, endpoint.secret);
  const hoursLeft = (Date.parse(previous_secret_expires_at) - Date.now()) / 3_600_000;
  assert.ok(
    hoursLeft > 23 && hoursLeft <= 24,
    `the overlap is WEBHOOK_SECRET_OVERLAP_HOURS (24): ${hoursLeft}`,
  );
  assert.deepEqual(await storedSecrets(endpoint.id), { secret, previous: endpoint.secret });

  const page = await staffPage.post(`/admin/webhooks/${endpoint.id}/rotate/`);
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers.location, undefined);
  const shown = SECRET_PATTERN.exec(page.body)?.[0];
  assert.ok(shown);
  assert.notEqual(shown, secret);
  assert.match(page.body, /it will not be shown again/);
  assert.match(page.body, /The previous secret keeps signing beside this one for 24 hours, until <time/);
  assert.deepEqual(await storedSecrets(endpoint.id), { secret: shown, previous: secret });
  const after = (await staffPage.get(`/admin/webhooks/${endpoint.id}/`)).body;
  assert.doesNotMatch(after, /whsec_/);
  assert.match(after, /The previous secret signs until <time/);
  assert.equal((await staff.postJson("/admin/webhooks/999999/rotate/", {})).statusCode, 404);
  const audit = (await auditRows(t.deps.db)).filter((row) => row.action === "webhook_secret_rotated");
  assert.equal(audit.length, 2);
  assert.doesNotMatch(JSON.stringify(audit), /whsec_/);
});

test("deleting asks first in a browser, then deletes the endpoint with its deliveries", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/delete-me", description: "doomed" });
  assert.equal((await staff.postJson(`/admin/webhooks/${endpoint.id}/test/`, {})).statusCode, 201);
  const confirm = await staffPage.get(`/admin/webhooks/${endpoint.id}/delete/`);
  assert.equal(confirm.statusCode, 200);
  assert.match(confirm.body, /Delete this endpoint\?/);
  assert.match(confirm.body, /<input type="hidden" name="confirm" value="yes">/);
  // A form posted without the confirmation's answer shows the question again.
  const unconfirmed = await staffPage.post(`/admin/webhooks/${endpoint.id}/delete/`);
  assert.equal(unconfirmed.statusCode, 200);
  assert.match(unconfirmed.body, /Delete this endpoint\?/);
  assert.equal((await staff.get(`/admin/webhooks/${endpoint.id}/`)).statusCode, 200, "still there");

  const deleted = await staffPage.post(`/admin/webhooks/${endpoint.id}/delete/`, { confirm: "yes" });
  assert.equal(deleted.statusCode, 303);
  assert.equal(deleted.headers.location, "/admin/webhooks/?notice=deleted");
  assert.match((await staffPage.get("/admin/webhooks/?notice=deleted")).body, /The endpoint is deleted/);
  assert.equal((await staff.get(`/admin/webhooks/${endpoint.id}/`)).statusCode, 404);
  const left = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`,
  );
  assert.equal(Number(left[0]?.n), 0);
  const audit = (await auditRows(t.deps.db)).filter((row) => row.action === "webhook_endpoint_deleted");
  assert.equal(audit.at(-1)?.details.url, "http://127.0.0.1:9/delete-me");

  const other = await addEndpoint();
  assert.deepEqual((await staff.postJson(`/admin/webhooks/${other.id}/delete/`, {})).json(), {
    deleted: true,
  });
  assert.equal((await staff.postJson(`/admin/webhooks/${other.id}/delete/`, {})).statusCode, 404);
  assert.equal((await staffPage.get(`/admin/webhooks/${other.id}/delete/`)).statusCode, 404);
});

test("a test event makes a delivery for that endpoint only, and its page shows it", async () => {
  const target = await addEndpoint({ url: "http://127.0.0.1:9/target", event_types: eventTypesAll() });
  const bystander = await addEndpoint({ url: "http://127.0.0.1:9/bystander", event_types: eventTypesAll() });
  const made = await staff.postJson(`/admin/webhooks/${target.id}/test/`, {});
  assert.equal(made.statusCode, 201);
  const { id } = made.json() as { id: number };
  const [delivery] = (await deliveriesOf(target.id)).deliveries;
  assert.equal(delivery?.id, id);
  assert.equal(delivery?.event_type, "webhook.test");
  assert.equal(delivery?.status, "pending");
  assert.equal(delivery?.manual, true);
  assert.deepEqual((await deliveriesOf(bystander.id)).deliveries, []);

  // The button: to the new delivery's page, which says what happens next.
  const clicked = await staffPage.post(`/admin/webhooks/${target.id}/test/`);
  assert.equal(clicked.statusCode, 303);
  const location = clicked.headers.location ?? "";
  assert.match(location, new RegExp(`^/admin/webhooks/${target.id}/deliveries/\\d+/\\?notice=test$`));
  const page = (await staffPage.get(location)).body;
  assert.match(page, /A test event \(webhook\.test\) is on its way to this endpoint alone\./);
  assert.match(
    page,
    /<pre class="[^"]*outbox-text[^"]*" id="delivery-body">\{\n {2}&quot;id&quot;: &quot;evt_[0-9a-f]{32}&quot;,\n {2}&quot;type&quot;: &quot;webhook\.test&quot;/,
  );
  assert.match(page, /No attempt yet: the delivery waits for its first\./);
  assert.equal((await deliveriesOf(target.id)).deliveries.length, 2);
  assert.deepEqual((await deliveriesOf(bystander.id)).deliveries, []);
  assert.equal((await staff.postJson("/admin/webhooks/999999/test/", {})).statusCode, 404);
});

test("Send again makes a new delivery of the same event, to the same endpoint", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/again" });
  const other = await addEndpoint({ url: "http://127.0.0.1:9/other" });
  const { id: first } = (await staff.postJson(`/admin/webhooks/${endpoint.id}/test/`, {})).json() as {
    id: number;
  };
  const again = await staff.postJson(`/admin/webhooks/${endpoint.id}/deliveries/${first}/resend/`, {});
  assert.equal(again.statusCode, 201);
  const { id: second } = again.json() as { id: number };
  assert.notEqual(second, first);
  const detail = async (id: number) =>
    (await staff.get(`/admin/webhooks/${endpoint.id}/deliveries/${id}/`)).json() as {
      delivery: DeliveryJson;
      body: string;
    };
  const [a, b] = [await detail(first), await detail(second)];
  assert.equal(b.delivery.event_id, a.delivery.event_id);
  assert.equal(b.body, a.body, "the same body, byte for byte");
  assert.equal(b.delivery.manual, true);
  assert.deepEqual(
    (await deliveriesOf(endpoint.id)).deliveries.map((d) => d.id),
    [second, first],
  );
  const clicked = await staffPage.post(`/admin/webhooks/${endpoint.id}/deliveries/${first}/resend/`);
  assert.equal(clicked.statusCode, 303);
  assert.match(
    clicked.headers.location ?? "",
    new RegExp(`^/admin/webhooks/${endpoint.id}/deliveries/\\d+/\\?notice=resent$`),
  );
  assert.match((await staffPage.get(clicked.headers.location ?? "")).body, /with the same webhook-id/);
  // The path names the endpoint: another endpoint's delivery is not found through it.
  assert.equal(
    (await staff.postJson(`/admin/webhooks/${other.id}/deliveries/${first}/resend/`, {})).statusCode,
    404,
  );
  assert.equal((await staff.get(`/admin/webhooks/${other.id}/deliveries/${first}/`)).statusCode, 404);
  assert.equal((await staff.get(`/admin/webhooks/${endpoint.id}/deliveries/abc/`)).statusCode, 404);
  assert.deepEqual((await deliveriesOf(other.id)).deliveries, []);
});

test("the delivery log pages back with ?before= and filters by status; a delivery shows every attempt", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/log" });
  const ids: number[] = [];
  for (let i = 0; i < 53; i++) {
    ids.push(
      ((await staff.postJson(`/admin/webhooks/${endpoint.id}/test/`, {})).json() as { id: number }).id,
    );
  }
  // Two delivered, one failed, as the worker leaves them.
  const [delivered, failed] = [ids[10] ?? 0, ids[11] ?? 0];
  await t.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'delivered', attempts = 2, last_status_code = 200,
    last_duration_ms = 87, last_response_excerpt = '', last_attempt_at = now(), delivered_at = now()
    WHERE id IN (${delivered}, ${ids[12] ?? 0})`);
  await t.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'failed', attempts = 1, last_status_code = 500,
    last_error = 'the answer was 500' WHERE id = ${failed}`);
  // The attempt that failed has a row of its own; the one that succeeded is on the delivery's row.
  await t.deps.db.execute(sql`INSERT INTO webhook_attempts (delivery_id, attempted_at, duration_ms, status_code, response_excerpt, error)
    VALUES (${delivered}, now() - interval '1 minute', 1234, 502, '<h1>Bad gateway</h1><script>alert(1)</script>', 'the answer was 502')`);

  const first = await deliveriesOf(endpoint.id);
  assert.equal(first.deliveries.length, 50);
  assert.deepEqual(
    first.deliveries.map((d) => d.id),
    [...ids].reverse().slice(0, 50),
  );
  assert.equal(first.next_page, `/admin/webhooks/${endpoint.id}/?before=${ids[3]}`);
  const second = await deliveriesOf(endpoint.id, `?before=${ids[3]}`);
  assert.deepEqual(
    second.deliveries.map((d) => d.id),
    [ids[2], ids[1], ids[0]],
  );
  assert.equal(second.next_page, null);
  assert.deepEqual(
    (await deliveriesOf(endpoint.id, "?status=delivered")).deliveries.map((d) => d.id),
    [ids[12], delivered],
  );
  assert.deepEqual(
    (await deliveriesOf(endpoint.id, "?status=failed")).deliveries.map((d) => d.id),
    [failed],
  );
  // A delivery whose endpoint was off when its job ran is skipped, and has a filter of its own.
  await t.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'skipped', last_error = 'the endpoint was off'
    WHERE id = ${ids[13] ?? 0}`);
  assert.deepEqual(
    (await deliveriesOf(endpoint.id, "?status=skipped")).deliveries.map((d) => d.id),
    [ids[13]],
  );
  assert.match(
    (await staffPage.get(`/admin/webhooks/${endpoint.id}/?status=skipped`)).body,
    /href="\/admin\/webhooks\/\d+\/\?status=skipped" aria-current="page">Skipped<\/a>/,
  );
  assert.equal((await staff.get(`/admin/webhooks/${endpoint.id}/?before=x`)).statusCode, 400);

  const page = (await staffPage.get(`/admin/webhooks/${endpoint.id}/?status=failed`)).body;
  assert.match(
    page,
    /<a class="btn btn-sm btn-primary" href="\/admin\/webhooks\/\d+\/\?status=failed" aria-current="page">Failed<\/a>/,
  );
  assert.match(page, /<span class="badge text-bg-danger">failed<\/span>/);
  assert.match(page, /the answer was 500/);
  const older = (await staffPage.get(`/admin/webhooks/${endpoint.id}/`)).body;
  assert.match(
    older,
    new RegExp(`href="/admin/webhooks/${endpoint.id}/\\?before=${ids[3]}" rel="next">Older deliveries`),
  );

  const detail = await staff.get(`/admin/webhooks/${endpoint.id}/deliveries/${delivered}/`);
  const attempts = (
    detail.json() as { attempts: { status_code: number; duration_ms: number; error: string | null }[] }
  ).attempts;
  assert.deepEqual(
    attempts.map((a) => [a.status_code, a.duration_ms, a.error]),
    [
      [502, 1234, "the answer was 502"],
      [200, 87, null],
    ],
  );
  const html = (await staffPage.get(`/admin/webhooks/${endpoint.id}/deliveries/${delivered}/`)).body;
  assert.match(
    html,
    /<pre class="outbox-text[^"]*">&lt;h1&gt;Bad gateway&lt;\/h1&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/pre>/,
  );
  assert.doesNotMatch(html, /<script>alert/);
  assert.match(html, /1,234 ms/);
  assert.match(html, /The answer had no body\./);
  assert.match(html, /<span class="badge text-bg-success">delivered<\/span>/);
});

test("every value staff typed is escaped on the pages", async () => {
  const description = `<script>alert("x")</script> & "quotes"`;
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/esc?a=1&b=<i>", description });
  for (const url of [
    "/admin/webhooks/",
    `/admin/webhooks/${endpoint.id}/`,
    `/admin/webhooks/${endpoint.id}/delete/`,
  ]) {
    const body = (await staffPage.get(url)).body;
    assert.doesNotMatch(body, /<script>alert/, url);
    assert.doesNotMatch(body, /<i>/, url);
    assert.match(body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &quot;quotes&quot;/, url);
  }
  // The URL was stored as the URL parser writes it: its < and > escaped as %3C and %3E.
  assert.equal(endpoint.url, "http://127.0.0.1:9/esc?a=1&b=%3Ci%3E");
  const refused = await staffPage.post("/admin/webhooks/", form({ url: `"><script>x</script>`, types: [] }));
  assert.equal(refused.statusCode, 400);
  assert.doesNotMatch(refused.body, /<script>x/);
  assert.match(refused.body, /value="&quot;&gt;&lt;script&gt;x&lt;\/script&gt;"/);
});

function eventTypesAll(): string[] {
  return ["user.created", "referral.created", "reward.granted"];
}

test("the pages' query strings: each parameter once, a bad cursor refused, with or without the slash", async () => {
  const endpoint = await addEndpoint({ url: "http://127.0.0.1:9/queries" });
  const base = `/admin/webhooks/${endpoint.id}`;
  for (const url of [
    `${base}/?status=failed&status=pending`,
    `${base}/?before=1&before=2`,
    "/admin/webhooks/?notice=a&notice=b",
  ]) {
    const response = await staff.get(url);
    assert.equal(response.statusCode, 400, url);
    assert.deepEqual(
      response.json(),
      { error: "bad_query", message: "Give each query parameter once." },
      url,
    );
  }
  for (const before of ["0", "-1", "abc"]) {
    assert.equal((await staff.get(`${base}/?before=${before}`)).statusCode, 400, before);
  }
  // An unknown status shows every delivery, as the outbox does.
  assert.equal((await staff.get(`${base}/?status=exploded`)).statusCode, 200);
  for (const url of ["/admin/webhooks", base, `${base}/deliveries/1`]) {
    assert.notEqual((await staff.get(url)).statusCode, 500, url);
  }
  assert.equal((await staff.get("/admin/webhooks")).statusCode, 200);
  assert.equal((await staff.get(base)).statusCode, 200);
});
