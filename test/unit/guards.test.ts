// The guards: who reaches a handler, and a staff scope that cannot hold an unguarded route.
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import type { SessionUser } from "../../src/accounts/sessions.js";
import { Forbidden, Unauthorized } from "../../src/errors.js";
import { forStaff, forUser, requireStaff, requireUser, staffOnly } from "../../src/web/guards.js";

const member = { id: 7, username: "member", isStaff: false } as SessionUser;
const staff = { id: 8, username: "boss", isStaff: true } as SessionUser;

/** An app whose requests carry the given user, as the session plugin would set it. */
function appAs(user: SessionUser | null) {
  const app = Fastify();
  app.decorateRequest("user", null);
  app.addHook("preHandler", async (request) => {
    request.user = user;
  });
  app.setErrorHandler((error: Error & { validation?: unknown }, _request, reply) => {
    const status =
      error instanceof Unauthorized ? 401 : error instanceof Forbidden ? 403 : error.validation ? 400 : 500;
    return reply.code(status).send({ error: error.name });
  });
  const schema = {
    querystring: { type: "object", properties: { n: { type: "string", pattern: "^[0-9]+$" } } },
  };
  app.get("/mine/checked", { schema, ...forUser(async () => ({})) });
  app.get("/staff/checked", { schema, ...forStaff(async () => ({})) });
  app.get(
    "/mine",
    forUser(async (request) => ({ name: request.user.username })),
  );
  app.get(
    "/staff",
    forStaff(async (request) => ({ name: request.user.username })),
  );
  return app;
}

test("forUser lets logged-in people through with their user, and no one else", async () => {
  assert.equal((await appAs(null).inject("/mine")).statusCode, 401);
  assert.deepEqual((await appAs(member).inject("/mine")).json(), { name: "member" });
});

test("forStaff refuses anonymous people (401) and non-staff (403)", async () => {
  assert.equal((await appAs(null).inject("/staff")).statusCode, 401);
  assert.equal((await appAs(member).inject("/staff")).statusCode, 403);
  assert.deepEqual((await appAs(staff).inject("/staff")).json(), { name: "boss" });
});

test("a query string that fails its schema is reported only to those the guard lets through", async () => {
  assert.equal((await appAs(null).inject("/mine/checked?n=x")).statusCode, 401);
  assert.equal((await appAs(member).inject("/mine/checked?n=x")).statusCode, 400);
  assert.equal((await appAs(member).inject("/mine/checked?n=1")).statusCode, 200);
  assert.equal((await appAs(null).inject("/staff/checked?n=x")).statusCode, 401);
  assert.equal((await appAs(member).inject("/staff/checked?n=x")).statusCode, 403);
  assert.equal((await appAs(staff).inject("/staff/checked?n=x")).statusCode, 400);
});

test("the pre-handlers are the guards' own checks", async () => {
  const request = (user: SessionUser | null) => ({ user }) as never;
  await assert.rejects(requireUser(request(null)), Unauthorized);
  await requireUser(request(member));
  await assert.rejects(requireStaff(request(member)), Forbidden);
  await requireStaff(request(staff));
});

test("a staff-only scope refuses to register a route made without forStaff", async () => {
  const guarded = Fastify();
  await guarded.register(async (scope) => {
    staffOnly(scope);
    scope.get(
      "/ok",
      forStaff(async () => ({})),
    );
    scope.get("/also-ok", { preHandler: [requireStaff] }, async () => ({}));
  });
  await guarded.ready();

  const open = Fastify();
  await assert.rejects(async () => {
    await open.register(async (scope) => {
      staffOnly(scope);
      scope.get("/forgotten", async () => ({}));
    });
  }, /GET \/forgotten must be made with forStaff/);
  const userOnly = Fastify();
  await assert.rejects(async () => {
    await userOnly.register(async (scope) => {
      staffOnly(scope);
      scope.get(
        "/members",
        forUser(async () => ({})),
      );
    });
  }, /must be made with forStaff/);
});
