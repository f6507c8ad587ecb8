import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { createRouter } from "../../lib/http/router.ts";
import { authRoutes } from "../../lib/routes/auth.ts";
import { type LoginEvent } from "../../lib/store/ports.ts";
import { type Hasher } from "../../lib/users/hash_queue.ts";
import { loginPolicy } from "../../lib/users/login.ts";
import {
  argon2AtMinimumCost,
  body,
  from,
  GRADER_BEARER,
  publishedKeys,
  register,
  type TestApp,
  tokenFrom,
  withApp,
} from "../support/helpers.ts";

const JSON_HEADERS = { "content-type": "application/json" };

function login(app: TestApp, username: string, password: string, init: RequestInit & { ip?: string } = {}) {
  return app.fetch("/auth", {
    method: "POST",
    headers: JSON_HEADERS,
    body: JSON.stringify({ username, password }),
    ...init,
  });
}

Deno.test("register and log in, in password mode", async (t) => {
  await withApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
    const password = String((await register(app, "testor_1a2b3c4d")).json.password);

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
  }, { onDisk: true });
});

Deno.test("each login writes one auth_logs row and updates last_login; nothing secret is on disk", async () => {
  await withApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
    const path = app.config.db;
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
  }, { onDisk: true });
});

Deno.test("the rate limit on POST /auth", async (t) => {
  await withApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
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
  }, { onDisk: true });
});

Deno.test("the client IP comes from X-Forwarded-For only with --trust-proxy", async () => {
  for (const trust of [false, true]) {
    await withApp({ auth: "open", "rate-limit": "2/s", ...(trust ? { "trust-proxy": true } : {}) }, async (app) => {
      const post = (xff: string) => app.fetch("/auth", { method: "POST", headers: { "x-forwarded-for": xff } });
      assert.equal((await post("1.1.1.1")).status, 200);
      assert.equal((await post("2.2.2.2")).status, 200);
      const third = await post("spoofed, 3.3.3.3");
      assert.equal(third.status, trust ? 200 : 429, `trust-proxy ${trust}`);
    }, { onDisk: true });
  }
});

Deno.test("forwarded headers are believed only from the named proxies", async () => {
  await withApp({ auth: "open", "rate-limit": "2/s", "trust-proxy": "10.0.0.0/8" }, async (app) => {
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

/** A hasher whose every verify waits until the test opens its gate (`gates.shift()?.()`). */
function gatedHasher(): { gates: (() => void)[]; gated: Hasher } {
  const gates: (() => void)[] = [];
  const gated: Hasher = {
    hash: (password) => argon2AtMinimumCost.hash(password),
    verify: async (hash, password) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return await argon2AtMinimumCost.verify(hash, password);
    },
  };
  return { gates, gated };
}

Deno.test("login hashing beyond the queue answers 503 with Retry-After", async () => {
  const { gates, gated } = gatedHasher();
  await withApp(
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
    { onDisk: true, hasher: gated },
  );
});

Deno.test("16 flooding IPs cannot keep a legitimate login out of the hashing queue", async () => {
  const { gates, gated } = gatedHasher();
  await withApp(
    { auth: "password", "seed-user": ["alice:alice-password"], "rate-limit": "off", "login-backoff": "off" },
    async (app) => {
      const flood: Promise<Response>[] = [];
      for (let round = 0; round < 8; round++) {
        for (let ip = 1; ip <= 16; ip++) flood.push(login(app, "alice", "guess", { ip: `203.0.113.${ip}` }));
      }
      while (gates.length < 1) await new Promise((resolve) => setTimeout(resolve, 1));
      const alice = login(app, "alice", "alice-password", { ip: "192.0.2.10" });
      let done = false;
      void alice.then(() => (done = true));
      let released = 0;
      while (!done) {
        const gate = gates.shift();
        if (gate !== undefined) (gate(), released++);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      assert.equal((await alice).status, 200, "alice's login got a slot");
      assert.ok(released <= 18, `${released} hashes: the one running, one per flooding IP at most, then hers`);
      while (gates.length > 0 || app.hasher.running > 0) {
        gates.shift()?.();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const statuses = (await Promise.all(flood)).map((response) => response.status);
      assert.ok(statuses.every((status) => status === 401 || status === 503));
      assert.ok(statuses.filter((status) => status === 503).length >= 64, "each flooding IP was held to its share");
    },
    { onDisk: true, hasher: gated },
  );
});

Deno.test("failed logins for a user from one IP do not lock the right password out from another", async () => {
  await withApp({ auth: "password", "seed-user": ["alice:alice-password"], "rate-limit": "off" }, async (app) => {
    for (let i = 0; i < 6; i++) assert.equal((await login(app, "alice", "guess", { ip: "203.0.113.66" })).status, 401);
    const locked = await login(app, "alice", "guess", { ip: "203.0.113.66" });
    assert.equal(locked.status, 429, "the attacking IP is backing off");
    assert.equal((await login(app, "alice", "alice-password", { ip: "192.0.2.10" })).status, 200);
    const long = await login(app, "x".repeat(60_000), "pw", { ip: "203.0.113.66" });
    assert.equal(long.status, 401);
    assert.equal(app.users.backoff!.size, 1, "a name over the limit left no state");
  });
});

Deno.test("open mode: anyone gets a token, but a registered name needs its password", async () => {
  await withApp({ auth: "open", "rate-limit": "off" }, async (app) => {
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
  }, { onDisk: true });
});

Deno.test("POST /auth offers no choice of algorithm: ?alg= is ignored", async () => {
  await withApp({ alg: "ES256" }, async (app) => {
    for (const query of ["?alg=HS256", "?alg=none", "?alg=RS256"]) {
      const response = await app.fetch(`/auth${query}`, { method: "POST" });
      assert.equal(response.status, 200, query);
      const { token } = await body<{ token: string }>(response);
      assert.equal(decodeProtectedHeader(token).alg, "ES256", query);
    }
  });
});

Deno.test("POST /auth in open mode", async (t) => {
  await withApp({ "rate-limit": "off", alg: "RS256" }, async (app) => {
    await t.step("issues a token that verifies against the JWKS, with the contract's header and claims", async () => {
      const jwt = await tokenFrom(app);
      const keySet = createLocalJWKSet(await publishedKeys(app));
      const { payload, protectedHeader } = await jwtVerify(jwt, keySet, { currentDate: new Date(app.clock()) });
      assert.equal(protectedHeader.alg, "RS256");
      assert.equal(protectedHeader.typ, "JWT");
      assert.ok((await publishedKeys(app)).keys.some((key) => key.kid === protectedHeader.kid));
      const now = Math.floor(app.clock() / 1000);
      assert.equal(payload.iss, "http://127.0.0.1:8080");
      assert.equal(payload.sub, "anonymous");
      assert.equal(payload.iat, now);
      assert.equal(payload.exp, now + 900);
      assert.match(payload.jti!, /^[0-9a-f-]{36}$/);
      assert.equal(payload.aud, undefined);
    });
    await t.step("takes the username from JSON, form or Basic, and ignores Bearer", async () => {
      const subject = async (init: RequestInit) =>
        decodeJwt(await tokenFrom(app, "/auth", { method: "POST", ...init })).sub;
      assert.equal(
        await subject({ headers: { "content-type": "application/json" }, body: '{"username":"json-user"}' }),
        "json-user",
      );
      assert.equal(
        await subject({
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "username=form-user&password=x",
        }),
        "form-user",
      );
      assert.equal(await subject({ headers: { authorization: `Basic ${btoa("basic-user:pw")}` } }), "basic-user");
      assert.equal(await subject({ headers: GRADER_BEARER }), "anonymous");
      const curl = { "content-type": "application/x-www-form-urlencoded" };
      assert.equal(await subject({ headers: curl, body: '{"username":"curl-user"}' }), "curl-user", "curl -d '{…}'");
      assert.equal(await subject({}), "anonymous", "curl -X POST with no body");
    });
    await t.step(
      "a body of any other type is 415 before it is read: text/plain is what a cross-site page sends",
      async () => {
        for (
          const type of ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x", "application/xml"]
        ) {
          const response = await app.fetch("/auth", {
            method: "POST",
            headers: { "content-type": type },
            body: '{"username":"cross-site"}',
          });
          assert.equal(response.status, 415, type);
          assert.equal((await body(response)).error, "unsupported_media_type");
        }
        const registered = await app.fetch("/register", {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: '{"username":"csrf","email":"csrf@example.com"}',
        });
        assert.equal(registered.status, 415, "a cross-site text/plain post registers no one");
        const empty = await app.fetch("/auth", { method: "POST", headers: { "content-type": "text/plain" } });
        assert.equal(empty.status, 200, "no body is not a body, whatever its declared type");
        await empty.body?.cancel();
      },
    );
    await t.step("?expired=true signs with an expired key whose kid is not in the JWKS", async () => {
      for (const query of ["?expired=true", "?expired", "?expired=1&x=y"]) {
        const jwt = await tokenFrom(app, `/auth${query}`);
        const keySet = createLocalJWKSet(await publishedKeys(app));
        const { kid } = decodeProtectedHeader(jwt);
        assert.ok(!(await publishedKeys(app)).keys.some((key) => key.kid === kid), "kid not published");
        assert.ok(decodeJwt(jwt).exp! < app.clock() / 1000, "exp in the past");
        await assert.rejects(jwtVerify(jwt, keySet), errors.JWKSNoMatchingKey);
      }
    });
    await t.step("?expired=false is a normal token and any other value is 400", async () => {
      const jwt = await tokenFrom(app, "/auth?expired=false");
      assert.ok(decodeJwt(jwt).exp! > app.clock() / 1000);
      for (const value of ["yes", "TRUEISH", "2"]) {
        const response = await app.fetch(`/auth?expired=${value}`, { method: "POST" });
        assert.equal(response.status, 400);
        assert.equal((await body(response)).error, "bad_request");
      }
      assert.equal((await app.fetch("/auth?expired=true&expired=false", { method: "POST" })).status, 400);
    });
    await t.step("bad bodies are 400, 413 or 415 with JSON errors", async () => {
      const post = (init: RequestInit) => app.fetch("/auth", { method: "POST", ...init });
      const bad = await post({ headers: { "content-type": "application/json" }, body: "{nope" });
      assert.deepEqual([bad.status, (await body(bad)).error], [400, "invalid_json"]);
      const array = await post({ headers: { "content-type": "application/json" }, body: "[1]" });
      assert.deepEqual([array.status, (await body(array)).error], [400, "invalid_json"]);
      const typed = await post({ headers: { "content-type": "application/json" }, body: '{"username":5}' });
      assert.deepEqual(await body(typed), {
        error: "invalid_field",
        message: 'Field "username" must be a string',
        field: "username",
      });
      const big = await post({ headers: { "content-type": "application/json" }, body: "x".repeat(64 * 1024 + 1) });
      assert.deepEqual([big.status, (await body(big)).error], [413, "payload_too_large"]);
      const streamed = await post({
        headers: { "content-type": "application/json" },
        body: new Blob(["{", " ".repeat(70_000), "}"]).stream(),
      });
      assert.equal(streamed.status, 413, "a chunked body is cut off at the limit too");
      const xml = await post({ headers: { "content-type": "application/xml" }, body: "<a/>" });
      assert.deepEqual([xml.status, (await body(xml)).error], [415, "unsupported_media_type"]);
      const utf = await post({
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      assert.deepEqual([utf.status, (await body(utf)).error], [400, "bad_request"]);
    });
  });
});

Deno.test("tokens follow the rotation and never outlive their key", async () => {
  await withApp({ "rotate-every": "10m", "token-ttl": "15m" }, async (app) => {
    const first = decodeProtectedHeader(await tokenFrom(app)).kid;
    const view = app.keys.view();
    assert.equal(view.active!.kid, first);
    app.clock.set((view.active!.retiresAt - 1) * 1000);
    const late = await tokenFrom(app);
    assert.equal(decodeProtectedHeader(late).kid, first);
    assert.ok(decodeJwt(late).exp! <= view.active!.exp, "exp capped at the key's exp");
    app.clock.set(view.active!.retiresAt * 1000);
    await app.rotate();
    const second = decodeProtectedHeader(await tokenFrom(app)).kid;
    assert.equal(second, view.next!.kid, "the next key took over on time");
    const kids = (await publishedKeys(app)).keys.map((key) => key.kid);
    assert.ok(kids.includes(first!), "the retired key is still published");
    const keySet = createLocalJWKSet(await publishedKeys(app));
    await jwtVerify(late, keySet, { currentDate: new Date(app.clock()) });
  });
});

Deno.test("while logins cannot be recorded POST /auth answers 503, and the row it records carries the client IP", async () => {
  await withApp({}, async (app) => {
    const recorded: LoginEvent[] = [];
    const loginLog = { healthy: true, record: (event: LoginEvent) => recorded.push(event) };
    const router = createRouter(authRoutes({
      login: loginPolicy({ mode: "open", users: null }),
      keys: app.keys,
      issuer: "http://127.0.0.1:8080",
      audience: null,
      tokenTtl: 60,
      clock: app.clock,
      loginLog,
    }));
    const post = () => Promise.resolve(router(new Request("http://x/auth", { method: "POST" }), from("192.0.2.44")));
    assert.equal((await post()).status, 200);
    assert.deepEqual(recorded, [{ userId: null, ip: "192.0.2.44", at: app.clock() }]);
    loginLog.healthy = false;
    const refused = await post();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "2");
    assert.equal((await body(refused)).error, "unavailable");
    assert.equal(recorded.length, 1, "no token, no row");
  });
});

Deno.test("open mode's mock controls on POST /auth shape the token; password mode ignores them", async (t) => {
  const controls = (now: number) => ({
    username: "carol",
    aud: ["api-a", "api-b"],
    scope: "read write",
    ttl: 120,
    nbf: now + 5,
    iss: "https://mock.example",
    claims: { tenant: "t1", roles: ["admin"] },
  });
  await withApp({ "max-token-ttl": "10m", "rate-limit": "off" }, async (app) => {
    const now = Math.floor(app.clock() / 1000);
    await t.step("a JSON body sets aud, scope, ttl, nbf, iss and extra claims", async () => {
      const token = await tokenFrom(app, "/auth", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify(controls(now)),
      });
      const claims = decodeJwt(token);
      assert.deepEqual(
        [claims.aud, claims.scope, claims.exp! - claims.iat!, claims.nbf, claims.iss, claims.tenant, claims.roles],
        [["api-a", "api-b"], "read write", 120, now + 5, "https://mock.example", "t1", ["admin"]],
      );
      assert.equal(claims.sub, "carol");
      assert.equal(decodeProtectedHeader(token).typ, "JWT", "/auth tokens keep typ JWT");
    });
    await t.step("a form sets the same, claims as JSON text", async () => {
      const token = await tokenFrom(app, "/auth", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: "dave", aud: "api-c", ttl: "60", claims: '{"tenant":"t2"}' }).toString(),
      });
      const claims = decodeJwt(token);
      assert.deepEqual([claims.aud, claims.exp! - claims.iat!, claims.tenant], ["api-c", 60, "t2"]);
    });
    await t.step("every input is bounded, and claims may not replace a standard claim", async () => {
      const refused: Record<string, unknown>[] = [
        { ttl: 601 },
        { ttl: 0 },
        { ttl: "soon" },
        { nbf: now + 100_000 },
        { iss: "x".repeat(300) },
        { aud: Array.from({ length: 11 }, (_, i) => `a${i}`) },
        { claims: "not json" },
        { claims: [1, 2] },
        { claims: { sub: "root" } },
        { claims: { exp: 1 } },
        { claims: { client_id: "x" } },
        { claims: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`c${i}`, i])) },
        { claims: { big: "x".repeat(9000) } },
        { claims: { a: { b: { c: { d: { e: { f: 1 } } } } } } },
        { scope: 'bad"scope' },
      ];
      for (const fields of refused) {
        const response = await app.fetch("/auth", {
          method: "POST",
          headers: JSON_HEADERS,
          body: JSON.stringify(fields),
        });
        assert.equal(response.status, 400, JSON.stringify(fields).slice(0, 80));
        const answer = await body(response);
        assert.equal(answer.error, "bad_request", "/auth keeps its own error shape");
        assert.equal(typeof answer.message, "string");
      }
    });
    await t.step("?expired=true lies clock skew + 60 s in the past at least, iat a ttl before it", async () => {
      const token = await tokenFrom(app, "/auth?expired=true", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ ttl: 300 }),
      });
      const claims = decodeJwt(token);
      assert.ok(claims.exp! <= now - app.config.policy.clockSkew - 60, `${claims.exp} vs ${now}`);
      assert.equal(claims.exp! - claims.iat!, 300);
      await assert.rejects(
        jwtVerify(token, createLocalJWKSet(await publishedKeys(app) as never), { clockTolerance: 60 }),
        "its key is not in the JWKS either",
      );
    });
  });
  await withApp({ auth: "password", "seed-user": ["userABC:password123"] }, async (app) => {
    await t.step("password mode honours none of it", async () => {
      const now = Math.floor(app.clock() / 1000);
      const token = await tokenFrom(app, "/auth", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...controls(now), username: "userABC", password: "password123", ttl: 99_999 }),
      });
      const claims = decodeJwt(token);
      assert.equal(claims.iss, app.config.issuer);
      assert.equal(claims.exp! - claims.iat!, app.config.policy.tokenTtl);
      for (const name of ["aud", "scope", "nbf", "tenant", "roles"]) assert.equal(name in claims, false, name);
    });
  });
});
