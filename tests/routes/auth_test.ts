import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeJwt } from "jose";
import type { Hasher } from "../../lib/users/hash_queue.ts";
import { body, fastHasher, type TestApp, testApp } from "../support/helpers.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function login(app: TestApp, username: string, password: string, init: RequestInit & { ip?: string } = {}) {
  return app.fetch("/auth", {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ username, password }),
    ...init,
  });
}

async function register(app: TestApp, username: string, email = `${username}@test.com`) {
  const response = await app.fetch("/register", {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ username, email }),
  });
  return { response, json: await body(response) };
}

async function withDbApp(
  flags: Record<string, string | boolean | string[]>,
  fn: (app: TestApp, path: string) => Promise<void>,
  options: { hasher?: Hasher } = {},
) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/totally_not_my_privateKeys.db`;
  const app = await testApp({ db: path, ...flags }, options);
  try {
    await fn(app, path);
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("register and log in, in password mode", async (t) => {
  await withDbApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
    let password = "";
    await t.step("POST /register answers 201 with a UUIDv4 password, not cached", async () => {
      const { response, json } = await register(app, "testor_1a2b3c4d");
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.match(String(json.password), UUID_V4);
      password = String(json.password);
    });
    await t.step("the password logs in by JSON, form and Basic", async () => {
      for (
        const init of [
          { headers: JSON_HEADERS, body: JSON.stringify({ username: "testor_1a2b3c4d", password }) },
          {
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ username: "testor_1a2b3c4d", password }).toString(),
          },
          { headers: { authorization: `Basic ${btoa(`testor_1a2b3c4d:${password}`)}` } },
        ]
      ) {
        app.clock.advance(1000);
        const response = await app.fetch("/auth", { method: "POST", ...init });
        assert.equal(response.status, 200);
        assert.equal(decodeJwt((await body<{ token: string }>(response)).token).sub, "testor_1a2b3c4d");
      }
    });
    await t.step("the seeded grader user logs in", async () => {
      app.clock.advance(1000);
      const response = await login(app, "userABC", "password123");
      assert.equal(response.status, 200);
    });
    await t.step("a wrong password and an unknown user get the same 401", async () => {
      app.clock.advance(1000);
      const wrong = await login(app, "userABC", "password124");
      const unknown = await login(app, "nobody", "password123");
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      const a = await wrong.text();
      assert.equal(a, await unknown.text());
      assert.deepEqual(JSON.parse(a), { error: "unauthorized", message: "Invalid username or password" });
      assert.match(wrong.headers.get("www-authenticate")!, /^Basic realm="jwks-server"/);
    });
    await t.step("no credentials, or a Bearer header only, is 401", async () => {
      app.clock.advance(1000);
      for (const headers of [{}, { authorization: `Bearer ${"0".repeat(64)}` }]) {
        const response = await app.fetch("/auth", { method: "POST", headers });
        assert.equal(response.status, 401);
        assert.equal((await body(response)).error, "unauthorized");
      }
    });
    await t.step("SQL-injection usernames neither log in nor break anything", async () => {
      app.clock.advance(1000);
      for (const username of ["' OR 1=1 --", "userABC' --", '" OR ""="', "userABC'; DROP TABLE users; --"]) {
        const response = await login(app, username, "' OR '1'='1");
        assert.equal(response.status, 401, username);
      }
      const { response } = await register(app, "x'; DROP TABLE users; --");
      assert.equal(response.status, 400);
      app.clock.advance(1000);
      assert.equal((await login(app, "userABC", "password123")).status, 200, "users table intact");
    });
    await t.step("a taken username or email is 409, invalid input is 400 naming the field", async () => {
      const dupName = await register(app, "testor_1a2b3c4d", "fresh@test.com");
      assert.deepEqual([dupName.response.status, dupName.json.error, dupName.json.field], [
        409,
        "conflict",
        "username",
      ]);
      const dupEmail = await register(app, "fresh", "testor_1a2b3c4d@test.com");
      assert.deepEqual([dupEmail.response.status, dupEmail.json.field], [409, "email"]);
      const badEmail = await register(app, "fresh", "nope");
      assert.deepEqual([badEmail.response.status, badEmail.json.error, badEmail.json.field], [
        400,
        "invalid_field",
        "email",
      ]);
      const noBody = await app.fetch("/register", { method: "POST" });
      assert.deepEqual([noBody.status, (await body(noBody)).field], [400, "username"]);
    });
  });
});

Deno.test("each login writes one auth_logs row and updates last_login; nothing secret is on disk", async () => {
  await withDbApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app, path) => {
    const { json } = await register(app, "alice", "alice@example.com");
    for (let i = 0; i < 3; i++) {
      app.clock.advance(1500);
      assert.equal((await login(app, "alice", String(json.password), { ip: "203.0.113.7" })).status, 200);
    }
    app.clock.advance(1500);
    assert.equal((await login(app, "alice", "wrong")).status, 401);
    await app.loginLog.flush();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const user = db.prepare("SELECT id, last_login FROM users WHERE username = ?").get("alice")!;
      const logs = db.prepare("SELECT request_ip, request_timestamp, user_id FROM auth_logs WHERE user_id = ?")
        .all(user.id as number);
      assert.equal(logs.length, 3, "one row per successful login, none for the failure");
      for (const log of logs) {
        assert.equal(log.request_ip, "203.0.113.7");
        assert.match(String(log.request_timestamp), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      }
      assert.equal(user.last_login, logs[2]!.request_timestamp);
    } finally {
      db.close();
    }
    const bytes = new TextDecoder("latin1").decode(await Deno.readFile(path));
    const wal = await Deno.readFile(`${path}-wal`).then((b) => new TextDecoder("latin1").decode(b), () => "");
    for (const secret of [String(json.password), "password123", '"d":"', "PRIVATE KEY"]) {
      assert.ok(!bytes.includes(secret) && !wal.includes(secret), `no ${secret} in the database files`);
    }
  });
});

Deno.test("the rate limit on POST /auth", async (t) => {
  await withDbApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
    await t.step("ten logins spaced 100 ms apart pass and an immediate eleventh gets 429", async () => {
      for (let i = 0; i < 10; i++) {
        if (i > 0) app.clock.advance(100);
        const response = await login(app, "userABC", "password123");
        assert.equal(response.status, 200, `login ${i + 1}`);
        assert.equal(response.headers.get("ratelimit-limit"), "10");
        assert.equal(response.headers.get("ratelimit-remaining"), String(9 - i));
      }
      const eleventh = await login(app, "userABC", "password123");
      assert.equal(eleventh.status, 429);
      assert.equal(eleventh.headers.get("retry-after"), "1");
      assert.equal(eleventh.headers.get("ratelimit-remaining"), "0");
      assert.equal(eleventh.headers.get("ratelimit-reset"), "1");
      assert.deepEqual(await body(eleventh), { error: "rate_limited", message: "Too many requests; retry in 1 s" });
    });
    await t.step("it applies before the body is read: a bad body still gets 429", async () => {
      const response = await app.fetch("/auth", { method: "POST", headers: JSON_HEADERS, body: "{not json" });
      assert.equal(response.status, 429);
    });
    await t.step("a wrong-method probe is 405, never 429", async () => {
      for (const method of ["GET", "PUT", "DELETE", "PATCH", "HEAD"]) {
        assert.equal((await app.fetch("/auth", { method })).status, 405);
      }
    });
    await t.step("other clients are not affected, and the window slides", async () => {
      assert.equal((await login(app, "userABC", "password123", { ip: "198.51.100.1" })).status, 200);
      app.clock.advance(101);
      assert.equal((await login(app, "userABC", "password123")).status, 200);
    });
  });
});

Deno.test("the client IP comes from X-Forwarded-For only with --trust-proxy", async () => {
  for (const trust of [false, true]) {
    await withDbApp({ auth: "open", "rate-limit": "2/s", ...(trust ? { "trust-proxy": true } : {}) }, async (app) => {
      const post = (xff: string) => app.fetch("/auth", { method: "POST", headers: { "x-forwarded-for": xff } });
      assert.equal((await post("1.1.1.1")).status, 200);
      assert.equal((await post("2.2.2.2")).status, 200);
      const third = await post("spoofed, 3.3.3.3");
      assert.equal(third.status, trust ? 200 : 429, `trust-proxy ${trust}`);
    });
  }
});

Deno.test("forwarded headers are believed only from the named proxies", async () => {
  await withDbApp({ auth: "open", "rate-limit": "2/s", "trust-proxy": "10.0.0.0/8" }, async (app) => {
    const post = (xff: string, ip: string) =>
      app.fetch("/auth", { method: "POST", headers: { "x-forwarded-for": xff }, ip });
    // A client that reaches the port itself cannot pick its rate-limit identity.
    assert.equal((await post("1.1.1.1", "198.51.100.7")).status, 200);
    assert.equal((await post("2.2.2.2", "198.51.100.7")).status, 200);
    assert.equal((await post("3.3.3.3", "198.51.100.7")).status, 429);
    // Behind the proxy, each client is its own identity: the rightmost hop that is not a proxy.
    for (const client of ["4.4.4.4", "5.5.5.5", "6.6.6.6"]) {
      assert.equal((await post(`9.9.9.9, ${client}, 10.0.0.3`, "10.1.2.3")).status, 200, client);
    }
  });
});

Deno.test("login hashing beyond the queue answers 503 with Retry-After", async () => {
  const gates: (() => void)[] = [];
  const gated: Hasher = {
    hash: (password) => fastHasher.hash(password),
    verify: async (hash, password) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return await fastHasher.verify(hash, password);
    },
  };
  await withDbApp(
    { auth: "password", "seed-user": ["userABC:password123"], "rate-limit": "off", "hash-queue": "1" },
    async (app) => {
      const first = login(app, "userABC", "password123");
      const second = login(app, "userABC", "password123");
      let settled = 0;
      first.then(() => settled++);
      second.then(() => settled++);
      while (gates.length < 1) await new Promise((resolve) => setTimeout(resolve, 1));
      const third = await login(app, "userABC", "password123");
      assert.equal(third.status, 503);
      assert.equal(third.headers.get("retry-after"), "1");
      assert.equal((await body(third)).error, "overloaded");
      // Open the gates: the two accepted logins complete.
      while (settled < 2) {
        gates.shift()?.();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200);
    },
    { hasher: gated },
  );
});

Deno.test("open mode: anyone gets a token, but a registered name needs its password", async () => {
  await withDbApp({ auth: "open", "rate-limit": "off" }, async (app) => {
    const { json } = await register(app, "alice", "alice@example.com");
    assert.equal((await login(app, "alice", "wrong")).status, 401);
    const noPassword = await app.fetch("/auth", {
      method: "POST",
      headers: JSON_HEADERS,
      body: '{"username":"alice"}',
    });
    assert.equal(noPassword.status, 401);
    const ok = await login(app, "alice", String(json.password));
    assert.equal(decodeJwt((await body<{ token: string }>(ok)).token).sub, "alice");
    const stranger = await login(app, "mallory", "anything");
    assert.equal(decodeJwt((await body<{ token: string }>(stranger)).token).sub, "mallory");
  });
});
