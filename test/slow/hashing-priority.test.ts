// The server's password-hashing threads run at a lower priority than its event loop (Linux), so a
// ready request never waits behind a hash for a core; HASHING_THREAD_NICE sets by how much.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { after, describe, test } from "node:test";
import { FetchClient, type ServerProcess, startServerProcess } from "../support/server-process.js";

const skip = process.platform === "linux" ? false : "thread priorities are read from Linux's /proc";

/** Every thread of a process, with its nice value (field 19 of /proc/PID/task/TID/stat). */
function niceByThread(pid: number): Map<number, number> {
  const nices = new Map<number, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    nices.set(Number(task), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return nices;
}

/**
 * Starts the server with `env`, signs two people up (so it has started its hashing threads) and
 * reads its threads' nice values, by thread id; `own` is the main thread's.
 */
async function nicesAfterSignups(
  servers: ServerProcess[],
  env: Record<string, string>,
  tag: string,
): Promise<{ own: number; nices: Map<number, number> }> {
  const server = await startServerProcess(env);
  servers.push(server);
  for (const name of [`${tag}_one`, `${tag}_two`]) {
    const response = await new FetchClient(server.baseUrl).signUp(name);
    assert.equal(response.status, 200, await response.text());
  }
  const pid = server.child.pid as number;
  const nices = niceByThread(pid);
  return { own: nices.get(pid) as number, nices };
}

describe("the hashing threads' priority", { skip }, () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test("by default the hashing threads run 10 nice levels below the event loop, which keeps its own", async () => {
    const { own, nices } = await nicesAfterSignups(servers, { HASHING_THREAD_NICE: "" }, "nice_default");
    const lowered = [...nices.values()].filter((nice) => nice === Math.min(19, own + 10));
    assert.ok(lowered.length >= 1, `no thread at nice ${own + 10}: ${JSON.stringify([...nices])}`);
    assert.ok(lowered.length <= availableParallelism(), "only the hashing threads (one per core at most)");
  });

  test("HASHING_THREAD_NICE=0 leaves every thread at the process's priority", async () => {
    const { own, nices } = await nicesAfterSignups(servers, { HASHING_THREAD_NICE: "0" }, "nice_zero");
    assert.deepEqual(new Set(nices.values()), new Set([own]));
  });
});
