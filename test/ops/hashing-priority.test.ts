// The server's password-hashing threads run at a lower priority than its event loop (Linux), so a
// ready request never waits behind a hash for a core; HASHING_THREAD_NICE sets by how much.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
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

/** Signs two people up, so the server has hashed (and started its hashing threads). */
async function signUpTwo(server: ServerProcess, tag: string): Promise<void> {
  for (const name of [`${tag}_one`, `${tag}_two`]) {
    const client = new FetchClient(server.baseUrl);
    const response = await client.signUp(name);
    assert.equal(response.status, 200, await response.text());
  }
}

describe("the hashing threads' priority", { skip }, () => {
  const servers: ServerProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test("by default the hashing threads run 10 nice levels below the event loop, which keeps its own", async () => {
    const server = await startServerProcess({ HASHING_THREAD_NICE: "" });
    servers.push(server);
    await signUpTwo(server, "nice_default");
    const pid = server.child.pid as number;
    const nices = niceByThread(pid);
    const own = nices.get(pid) as number;
    const lowered = [...nices.values()].filter((nice) => nice === Math.min(19, own + 10));
    assert.ok(lowered.length >= 1, `no thread at nice ${own + 10}: ${JSON.stringify([...nices])}`);
    assert.ok(
      lowered.length <= 2,
      "only the hashing threads (at most one per core, 2 here at most) are lowered",
    );
  });

  test("HASHING_THREAD_NICE=0 leaves every thread at the process's priority", async () => {
    const server = await startServerProcess({ HASHING_THREAD_NICE: "0" });
    servers.push(server);
    await signUpTwo(server, "nice_zero");
    const pid = server.child.pid as number;
    const nices = niceByThread(pid);
    assert.deepEqual(new Set(nices.values()), new Set([nices.get(pid)]));
  });
});
