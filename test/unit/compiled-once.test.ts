// Schemas compiled once per process (src/compiled-once.ts): the response serializers every app
// built asks for again are the same functions, and they still write what Fastify's own would.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import { compiledOnce } from "../../src/compiled-once.js";
import { onceCompiledSerializers } from "../../src/web/response-serializers.js";

test("compiledOnce compiles each text once and hands out what it gave", () => {
  const cache = new Map<string, { text: string }>();
  let compiles = 0;
  const compile = (text: string) => () => {
    compiles++;
    return { text };
  };
  const first = compiledOnce(cache, "a", compile("a"));
  assert.equal(compiledOnce(cache, "a", compile("a")), first);
  assert.notEqual(compiledOnce(cache, "b", compile("b")), first);
  assert.equal(compiles, 2);
});

const shared = { $id: "Money", type: "object", properties: { cents: { type: "integer" } } };
const route = (schema: object) => ({ method: "GET", url: "/x", httpStatus: "200", schema });
const responseSchema = () => ({
  type: "object",
  properties: { name: { type: "string" }, balance: { $ref: "Money#" } },
});
const body = { name: "ana", balance: { cents: 1000, extra: true }, secret: "not in the schema" };

test("two apps get the same serializer for the same schema, writing what Fastify's own writes", () => {
  // As two apps' contexts would ask: new objects with the same text.
  const first = onceCompiledSerializers({ Money: { ...shared } }, {})(route(responseSchema()));
  const second = onceCompiledSerializers({ Money: { ...shared } }, {})(route(responseSchema()));
  assert.equal(second, first);
  const fastifys = SerializerSelector()({ Money: shared }, {})(route(responseSchema()));
  assert.equal(first(body), fastifys(body));
  assert.equal(first(body), '{"name":"ana","balance":{"cents":1000}}');
});

test("other shared schemas or another schema give a serializer of their own", () => {
  const cents = onceCompiledSerializers({ Money: shared }, {})(route(responseSchema()));
  const asText = { ...shared, properties: { cents: { type: "string" } } };
  const text = onceCompiledSerializers({ Money: asText }, {})(route(responseSchema()));
  assert.notEqual(text, cents);
  assert.equal(text(body), '{"name":"ana","balance":{"cents":"1000"}}');
  const nameOnly = onceCompiledSerializers(
    { Money: shared },
    {},
  )(route({ type: "object", properties: { name: { type: "string" } } }));
  assert.notEqual(nameOnly, cents);
  assert.equal(nameOnly(body), '{"name":"ana"}');
});
