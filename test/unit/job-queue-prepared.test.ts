// pg-boss's repeated statements are prepared on PostgreSQL (src/jobs/queue.ts): named from their
// second use, the same name every time after, and never more than a bounded number of texts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { preparedNames } from "../../src/jobs/queue.js";

test("a statement is named from its second use, with one name for one text", () => {
  const names = preparedNames();
  const fetch = "SELECT * FROM pgboss.job WHERE name = $1";
  assert.equal(names.nameFor(fetch), undefined, "a statement seen once runs unprepared");
  const name = names.nameFor(fetch);
  assert.match(name ?? "", /^pgboss_[A-Za-z0-9_-]{24}$/);
  assert.equal(names.nameFor(fetch), name);
  const other = "UPDATE pgboss.job SET state = $1";
  names.nameFor(other);
  const otherName = names.nameFor(other);
  assert.ok(otherName && otherName !== name, "another text has another name");
});

test("texts beyond the bound are never prepared: a connection keeps a bounded set", () => {
  const names = preparedNames();
  const texts = Array.from({ length: 200 }, (_, i) => `SELECT ${i} WHERE $1`);
  for (const text of texts) names.nameFor(text);
  const prepared = texts.filter((text) => names.nameFor(text) !== undefined);
  assert.equal(prepared.length, 64);
  assert.deepEqual(prepared, texts.slice(0, 64), "the first texts seen keep their names");
});
