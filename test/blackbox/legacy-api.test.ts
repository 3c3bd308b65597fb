// Drives the JSON API over a real socket exactly as the earlier version's README documents it:
// Accept: application/json, the csrftoken cookie echoed in X-CSRFToken, form-encoded bodies.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { oneAddressSignals } from "../support/app.js";
import { FetchClient, type ServerProcess, startServerProcess } from "../support/server-process.js";

let server: ServerProcess;
before(async () => {
  // Every client here is on 127.0.0.1 with the inviter: the shared-address signal would hold them.
  server = await startServerProcess(oneAddressSignals);
});
after(async () => server.stop());

const json = { Accept: "application/json" };

function postForm(client: FetchClient, path: string, body: string) {
  return client.fetch(path, {
    method: "POST",
    headers: {
      Accept: "application/json",
      "X-CSRFToken": client.getCookie("csrftoken") ?? "",
      "Content-type": "application/x-www-form-urlencoded",
    },
    body,
  });
}

describe("a client written for the earlier version", () => {
  test("GET / without a session answers 401 {error: unauthorized} and hands out a csrftoken cookie", async () => {
    const client = new FetchClient(server.baseUrl);
    const response = await client.fetch("/", { headers: json });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "unauthorized" });
    assert.ok(client.getCookie("csrftoken"));
  });

  test("signs up, reads referral_link and balance, refers a friend, logs out and in again", async () => {
    const alice = new FetchClient(server.baseUrl);
    await alice.fetch("/", { headers: json });
    const signup = await postForm(
      alice,
      "/signup",
      "username=alice&password1=correct+horse+battery&password2=correct+horse+battery",
    );
    assert.equal(signup.status, 200);
    assert.deepEqual(await signup.json(), {});

    const home = await alice.fetch("/", { headers: json });
    assert.equal(home.status, 200);
    const me = (await home.json()) as { referral_link: string; balance: number };
    assert.equal(me.balance, 0);
    assert.ok(me.referral_link.startsWith(`${server.baseUrl}/signup/?ref=`));

    const ref = new URL(me.referral_link).searchParams.get("ref") as string;
    for (let i = 0; i < 5; i++) {
      const friend = new FetchClient(server.baseUrl);
      await friend.fetch("/login/", { headers: json });
      const r = await postForm(
        friend,
        `/signup?ref=${ref}`,
        `username=friend${i}&password1=correct+horse+battery&password2=correct+horse+battery`,
      );
      assert.equal(r.status, 200);
      const friendHome = (await (await friend.fetch("/", { headers: json })).json()) as { balance: number };
      assert.equal(friendHome.balance, 10);
    }
    const after = (await (await alice.fetch("/", { headers: json })).json()) as { balance: number };
    assert.equal(after.balance, 10);

    const logout = await postForm(alice, "/logout", "");
    assert.equal(logout.status, 200);
    assert.deepEqual(await logout.json(), {});
    assert.equal((await alice.fetch("/", { headers: json })).status, 401);

    const login = await postForm(alice, "/login/", "username=alice&password=correct+horse+battery");
    assert.equal(login.status, 200);
    assert.deepEqual(await login.json(), {});
    assert.equal((await alice.fetch("/", { headers: json })).status, 200);
  });

  test("errors come back as {field: [errors]} with the earlier version's messages", async () => {
    const client = new FetchClient(server.baseUrl);
    await client.fetch("/login/", { headers: json });
    const login = await postForm(client, "/login", "username=alice&password=wrong");
    assert.equal(login.status, 400);
    assert.deepEqual(await login.json(), {
      __all__: ["Please enter a correct username and password. Note that both fields may be case-sensitive."],
    });
    const signup = await postForm(client, "/signup/", "username=alice&password1=123&password2=123");
    assert.equal(signup.status, 400);
    assert.deepEqual(await signup.json(), {
      username: ["A user with that username already exists."],
      password2: [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
      ],
    });
  });

  test("a POST without the X-CSRFToken header is refused with 403 {error: csrf_failed}", async () => {
    const client = new FetchClient(server.baseUrl);
    await client.fetch("/login/", { headers: json });
    const response = await client.fetch("/login/", {
      method: "POST",
      headers: { Accept: "application/json", "Content-type": "application/x-www-form-urlencoded" },
      body: "username=alice&password=correct+horse+battery",
    });
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { error: string }).error, "csrf_failed");
  });

  test("the browser flow: HTML pages, redirects and Bootstrap served locally", async () => {
    const client = new FetchClient(server.baseUrl);
    const home = await client.fetch("/");
    assert.equal(home.status, 302);
    assert.equal(home.headers.get("location"), "/login/?next=/");
    const css = await client.fetch("/static/bootstrap/css/bootstrap.min.css");
    assert.equal(css.status, 200);
    assert.match(css.headers.get("content-type") ?? "", /text\/css/);
  });
});
