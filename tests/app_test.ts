import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { createApp } from "../lib/app.ts";
import { type Alg } from "../lib/core/key_material.ts";
import { secretCheck } from "../lib/core/seal.ts";
import { createLogger } from "../lib/ops/log.ts";
import { loadConfig } from "../lib/settings.ts";
import { type Store } from "../lib/store/ports.ts";
import { RedisRateLimiter } from "../lib/store/redis.ts";
import { openSqliteStore } from "../lib/store/sqlite.ts";
import { runtimeSqliteError } from "../lib/store/sqlite_errors.ts";
import { describeCase, FUZZ_USER, fuzzCase, judge } from "../torture/fuzz.ts";
import { createRng, seedFrom } from "../torture/prng.ts";
import {
  argon2AtMinimumCost,
  body,
  captureLog,
  freshKey,
  from,
  testApp,
  testClock,
  testConfig,
  withApp,
  withTempDir,
} from "./support/helpers.ts";
import { postgresService, query, redisService, serviceEnvironment } from "./support/services.ts";

const ALICE = { username: "alice", password: "alice-password-0123" };
const NOT_MY_KEY = "app test master secret, 32 bytes";
const postgres = await postgresService("app_test");
const redis = await redisService("app_test");

/**
 * A real SQLite store whose writes fail, while `fault` is set, exactly as the driver fails
 * them (the same message through the same mapping); reads keep working, as on a full disk.
 */
function faultyStore(inner: Store, path: string): Store & { fault: string | null } {
  const state = { fault: null as string | null };
  const write = <A extends unknown[], R>(method: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    state.fault === null ? method(...args) : Promise.reject(runtimeSqliteError(new Error(state.fault), path));
  return {
    get fault() {
      return state.fault;
    },
    set fault(value) {
      state.fault = value;
    },
    description: inner.description,
    created: inner.created,
    listKeys: () => inner.listKeys(),
    keysVersion: () => inner.keysVersion(),
    keyPolicy: () => inner.keyPolicy(),
    keyChanges: (version) => inner.keyChanges(version),
    updateKeys: write((plan) => inner.updateKeys(plan)),
    resealKeys: write((reseal, note) => inner.resealKeys(reseal, note)),
    pruneLogins: write((before, limit) => inner.pruneLogins(before, limit)),
    checkpoint: write(() => inner.checkpoint()),
    backup: (path) => inner.backup(path),
    createUser: write((user, now) => inner.createUser(user, now)),
    upsertUser: write((user, now) => inner.upsertUser(user, now)),
    findUser: (username) => inner.findUser(username),
    recordLogins: write((events) => inner.recordLogins(events)),
    oauth: inner.oauth,
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

const JSON_TYPE = { "content-type": "application/json" };

Deno.test("every response carries X-Request-Id: the caller's when sane, else a fresh UUID", async () => {
  await withApp({ auth: "password" }, async (app) => {
    const etag = (await app.fetch("/jwks")).headers.get("etag")!;
    const requests: [string, RequestInit][] = [
      ["/.well-known/jwks.json", {}],
      ["/jwks", { headers: { "if-none-match": etag } }],
      ["/jwks", { method: "HEAD" }],
      ["/jwks", { method: "OPTIONS" }],
      ["/jwks", { method: "POST" }],
      ["/nowhere", {}],
      ["/auth", { method: "POST" }],
      ["/auth?expired=maybe", { method: "POST" }],
      ["/auth", { method: "POST", headers: JSON_TYPE, body: "x".repeat(70_000) }],
      ["/auth", { method: "POST", body: '{"username":"text-plain"}' }],
      ["/register", { method: "POST", headers: JSON_TYPE, body: "{" }],
      [
        "/register",
        { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ username: "dora", email: "dora@example.com" }) },
      ],
      ["/.well-known/openid-configuration", {}],
      ["/healthz", {}],
      ["/readyz", {}],
      ["/metrics", {}],
    ];
    const statuses = new Set<number>();
    for (const [path, init] of requests) {
      const given = await app.fetch(path, { ...init, headers: { ...init.headers, "x-request-id": "trace-42.a:b@c" } });
      statuses.add(given.status);
      assert.equal(given.headers.get("x-request-id"), "trace-42.a:b@c", `${init.method ?? "GET"} ${path}`);
      await given.body?.cancel();
      const fresh = await app.fetch(path, init);
      assert.match(fresh.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/, `${init.method ?? "GET"} ${path}`);
      await fresh.body?.cancel();
    }
    assert.deepEqual([...statuses].sort(), [200, 201, 204, 304, 400, 401, 404, 405, 413, 415]);
    for (const bad of ["x".repeat(200), "has space", 'quote"d', ""]) {
      const response = await app.fetch("/healthz", { headers: { "x-request-id": bad } });
      assert.match(response.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/, JSON.stringify(bad));
      await response.body?.cancel();
    }
  });
});

Deno.test("key lifecycle events reach the log with the kid and their times", async () => {
  const clock = testClock();
  const log = captureLog(clock);
  await withApp({ "rotate-every": "1h", "key-retention": "0", alg: "RS256" }, async (app) => {
    const events = (name: string) => log.lines.filter((line) => line.msg === name);
    const created = events("key_created");
    assert.equal(created.length, 3, "active, next and expired keys at first start");
    for (const line of created) {
      assert.match(String(line.kid), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(line.alg, "RS256");
      assert.equal(typeof line.activatesAt, "number");
      assert.equal(typeof line.exp, "number");
    }
    const first = app.keys.view().active!;
    const second = app.keys.view().next!;

    // The next key takes over between requests: the poll (refresh) notices it.
    clock.advance(3600_000);
    await app.refresh();
    const [retired] = events("key_retired");
    const [activated] = events("key_activated");
    assert.deepEqual(
      { kid: retired?.kid, retiredAt: retired?.retiredAt, exp: retired?.exp },
      { kid: first.kid, retiredAt: first.retiresAt, exp: first.exp },
    );
    assert.deepEqual(
      { kid: activated?.kid, alg: activated?.alg, activatedAt: activated?.activatedAt },
      { kid: second.kid, alg: "RS256", activatedAt: second.activatesAt },
    );

    await app.rotate();
    assert.equal(events("key_created").length, 4, "a new next key");
    const third = app.keys.view().next!;
    await app.keys.apply({ kind: "revoke", kid: third.kid });
    const [revoked] = events("key_revoked");
    assert.equal(revoked?.kid, third.kid);
    assert.equal(revoked?.revokedAt, app.keys.now());

    clock.advance(3 * 3600_000);
    await app.rotate();
    const purged = events("key_purged");
    assert.ok(purged.length >= 1, "expired keys past retention are purged");
    for (const line of purged) assert.equal(typeof line.exp, "number");
    assert.ok(purged.some((line) => line.kid === third.kid || line.kid === first.kid));
  }, { clock, log });
});

Deno.test("changing --alg publishes a key of the new type and switches after the lead time", async (t) => {
  await withTempDir(async (dir) => {
    const db = `${dir}/keys.db`;
    const clock = testClock();
    const before = await testApp({ db, alg: "RS256" }, { clock });
    const oldToken = (await body<{ token: string }>(await before.fetch("/auth", { method: "POST" }))).token;
    const oldNext = before.keys.view().next!.kid;
    await before.close();

    const log = captureLog(clock);
    await withApp({ db, alg: "EdDSA" }, async (after) => {
      const jwks = async () => (await body<{ keys: Record<string, string>[] }>(await after.fetch("/jwks"))).keys;
      await t.step("both key types are published during the change, each with kid, alg and use", async () => {
        const keys = await jwks();
        // The RS256 key that signs, the EdDSA key that takes over after the lead time, and its
        // EdDSA successor, already due (one run plans both, so a second run finds nothing to do).
        assert.deepEqual(keys.map((key) => key.alg).sort(), ["EdDSA", "EdDSA", "RS256"]);
        assert.equal((await after.keys.apply()).changed, false, "planning again changes nothing");
        for (const key of keys) {
          assert.ok(key.kid && key.alg && key.use === "sig");
        }
        assert.ok(!keys.some((key) => key.kid === oldNext), "the waiting RS256 key, never used, is withdrawn");
        assert.ok(log.lines.some((line) => line.msg === "key_revoked" && line.kid === oldNext));
      });
      await t.step("tokens signed before the change still verify", async () => {
        await jwtVerify(oldToken, createLocalJWKSet({ keys: await jwks() }), { currentDate: new Date(clock()) });
      });
      await t.step("the old key signs until the new one has been published for the lead time", async () => {
        const { token } = await body<{ token: string }>(await after.fetch("/auth", { method: "POST" }));
        assert.equal(decodeProtectedHeader(token).alg, "RS256");
        clock.advance(after.config.policy.lead * 1000);
        await after.rotate();
        const next = await body<{ token: string }>(await after.fetch("/auth", { method: "POST" }));
        assert.equal(decodeProtectedHeader(next.token).alg, "EdDSA");
        const set = createLocalJWKSet({ keys: await jwks() });
        await jwtVerify(next.token, set, { currentDate: new Date(clock()) });
        await jwtVerify(oldToken, set, { currentDate: new Date(clock()) });
      });
      await t.step("once switched, a restart with the same --alg changes nothing", async () => {
        const kids = (await jwks()).map((key) => key.kid);
        const result = await after.keys.apply();
        assert.equal(result.changed, false);
        assert.deepEqual((await jwks()).map((key) => key.kid), kids);
        assert.equal(after.keys.view().next!.alg, "EdDSA");
      });
    }, { clock, log });
  });
});

Deno.test("switching back before the new key signed withdraws it; the next key is of the old type again", async () => {
  await withTempDir(async (dir) => {
    const db = `${dir}/keys.db`;
    const clock = testClock();
    for (const alg of ["RS256", "ES256"] as Alg[]) await (await testApp({ db, alg }, { clock })).close();
    await withApp({ db, alg: "RS256" }, (app) => {
      const view = app.keys.view();
      assert.equal(view.active!.alg, "RS256");
      assert.equal(view.next!.alg, "RS256");
      assert.equal(view.next!.activatesAt, view.active!.retiresAt);
      assert.ok(view.next!.activatesAt >= view.next!.publishedAt + app.config.policy.lead);
      const algs = view.jwks.keys.map((key) => key.alg);
      assert.deepEqual(algs, ["RS256", "RS256"], "the ES256 key that never signed is gone");
    }, { clock });
  });
});

Deno.test("while a graceful stop drains, every new request gets 503 with Retry-After and Connection: close", async () => {
  await withApp({}, async (app) => {
    app.drain();
    for (const path of ["/jwks", "/auth", "/healthz", "/nowhere"]) {
      const response = await app.handle(new Request(`http://x${path}`, { headers: { "x-request-id": "d-1" } }), from());
      assert.equal(response.status, 503, path);
      assert.equal(response.headers.get("retry-after"), "1");
      assert.equal(response.headers.get("connection"), "close");
      assert.equal(response.headers.get("x-request-id"), "d-1");
      assert.equal((await body(response)).error, "unavailable");
    }
  });
});

Deno.test("2,000 hostile requests through handle() get no 5xx, only JSON errors, and leave the service working", async () => {
  const seed = seedFrom(Deno.env.toObject(), 20261122);
  console.log(`fuzz seed ${seed} (replay: SEED=${seed} deno task test tests/app_test.ts)`);
  const dir = await Deno.makeTempDir();
  const db = `${dir}/fuzz.db`;
  const reported: unknown[] = [];
  const app = await testApp(
    { auth: "password", "rate-limit": "off", db, "seed-user": [`${FUZZ_USER.username}:${FUZZ_USER.password}`] },
    { app: { onError: (error) => reported.push(error) } },
  );
  try {
    const rng = createRng(seed);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const fuzz = fuzzCase(rng);
      let response: Response;
      try {
        response = await app.fetch(fuzz.path, {
          method: fuzz.method,
          headers: fuzz.headers as [string, string][],
          body: fuzz.body,
        });
      } catch (error) {
        // `new Request` refuses a few shapes (a body on GET, a forbidden method): never sent.
        assert.ok(error instanceof TypeError, `${describeCase(fuzz)}: ${error}`);
        refused++;
        continue;
      }
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = judge(fuzz, response.status, response.headers.get("content-type"), text);
      if (problem !== null) failures.push(`${describeCase(fuzz)}: ${problem}`);
    }
    assert.deepEqual(failures, [], `seed ${seed}`);
    assert.deepEqual(reported, [], "nothing was reported as an unexpected error");
    assert.ok(refused < 100, `only a few cases are unsendable (${refused})`);
    for (const status of [200, 201, 400, 401, 404, 405, 413, 415]) {
      assert.ok((statuses.get(status) ?? 0) > 0, `the cases reach the ${status} path`);
    }

    const jwks = await app.fetch("/.well-known/jwks.json");
    assert.equal(jwks.status, 200);
    const registered = await app.fetch("/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "after-fuzz", email: "after@example.com" }),
    });
    assert.equal(registered.status, 201, "registration still works");
    const { password } = await registered.json();
    const login = await app.fetch("/auth", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "after-fuzz", password }),
    });
    assert.equal(login.status, 200, "and so do logins");
    await login.body?.cancel();
  } finally {
    await app.close();
  }
  const check = new DatabaseSync(db);
  try {
    assert.deepEqual(check.prepare("PRAGMA integrity_check").all().map((row) => row.integrity_check), ["ok"]);
    const keys = check.prepare("SELECT COUNT(*) AS n FROM keys").get() as { n: number };
    assert.ok(keys.n >= 3, "SQL in usernames and passwords touched no table");
  } finally {
    check.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a restart with a shorter token lifetime keeps each key published until the tokens it signed expire", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/restart.db`;
  const clock = testClock();
  const before = await testApp({ db, "rotate-every": "60s", "token-ttl": "15m" }, { clock });
  clock.advance(30_000);
  const token = (await body<{ token: string }>(await before.fetch("/auth", { method: "POST" }))).token;
  const { exp } = decodeJwt(token);
  const { kid } = decodeProtectedHeader(token);
  await before.close();

  const after = await testApp({ db, "rotate-every": "60s", "token-ttl": "60s" }, { clock });
  try {
    assert.equal((await after.keys.apply()).changed, false, "the schedule the restart settled on is stable");
    // Run the minute ticks until the token expires: its key must stay in the JWKS all along.
    while (clock() / 1000 < exp! - 1) {
      clock.advance(Math.min(60_000, exp! * 1000 - 1000 - clock()));
      await after.rotate();
      const set = await body<JSONWebKeySet>(await after.fetch("/.well-known/jwks.json"));
      assert.ok(
        set.keys.some((key) => key.kid === kid),
        `${exp! - Math.floor(clock() / 1000)} s before the token expires its key ${kid} is no longer published`,
      );
    }
    await jwtVerify(token, createLocalJWKSet(await body<JSONWebKeySet>(await after.fetch("/jwks"))), {
      currentDate: new Date(clock()),
    });
  } finally {
    await after.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refresh() publishes a successor as soon as the next key starts signing, without waiting for the cron minute", async () => {
  const clock = testClock();
  await withApp({ "rotate-every": "60s" }, async (app) => {
    const first = app.keys.view();
    assert.ok(first.next !== null);
    clock.set(first.next.activatesAt * 1000);
    assert.equal(app.keys.view().next, null, "the next key signs now and nothing is next");
    assert.equal((await app.fetch("/readyz")).status, 503);
    await app.refresh();
    const view = app.keys.view();
    assert.ok(view.next !== null, "a successor is published at the next tick");
    assert.ok(view.next.activatesAt - view.next.publishedAt >= app.config.policy.lead, "a full lead time ahead");
    assert.equal((await app.fetch("/readyz")).status, 200);
    assert.equal(view.active?.kid, first.next.kid);
  }, { clock });
});

Deno.test("while the database cannot be written, /auth and /register answer 503 JSON, the JWKS keeps serving, and all recovers", async (t) => {
  for (const driverMessage of ["database or disk is full", "attempt to write a readonly database", "disk I/O error"]) {
    await t.step(driverMessage, async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/faults.db`;
      const clock = testClock();
      let store: ReturnType<typeof faultyStore> | null = null;
      const app = await createApp(
        testConfig({ auth: "password", "rate-limit": "off", "seed-user": [`${ALICE.username}:${ALICE.password}`] }),
        {
          clock,
          masterSecret: "disk fault test secret",
          hasher: argon2AtMinimumCost,
          generate: freshKey,
          openStore: (sealer) => (store = faultyStore(openSqliteStore(path, { secret: secretCheck(sealer) }), path)),
        },
      );
      const fetch = (route: string, init?: RequestInit) =>
        app.handle(new Request(`http://127.0.0.1${route}`, init), from());
      try {
        const jwks = await (await fetch("/.well-known/jwks.json")).text();
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200);
        await app.loginLog.flush();

        store!.fault = driverMessage;
        const register = await fetch("/register", jsonPost({ username: "bob", email: "bob@example.com" }));
        assert.equal(register.status, 503);
        const refusal = await register.json();
        assert.equal(refusal.error, "unavailable");
        assert.ok(
          !refusal.message.includes(path) && !refusal.message.includes(driverMessage),
          "no path or driver text",
        );
        assert.ok(Number(register.headers.get("retry-after")) >= 1);
        // The login that meets the fault is answered: its auth_logs row waits in memory.
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200);
        assert.equal(await app.loginLog.flush(), false, "its write fails");
        const refused = await fetch("/auth", jsonPost(ALICE));
        assert.equal(refused.status, 503, "later logins are refused while they cannot be recorded");
        assert.equal(refused.headers.get("content-type"), "application/json");
        assert.equal((await refused.json()).error, "unavailable");
        assert.ok(Number(refused.headers.get("retry-after")) >= 1);

        await assert.rejects(
          app.keys.apply({ kind: "rotate" }),
          (error: { code: string }) => error.code === "unavailable",
        );
        assert.equal(await (await fetch("/.well-known/jwks.json")).text(), jwks, "the JWKS is served unchanged");
        clock.advance(86_400_000 + 1000); // past the next activation: due changes cannot be written
        await assert.rejects(app.rotate(), (error: { code: string }) => error.code === "unavailable");
        const served = await fetch("/.well-known/jwks.json");
        assert.equal(served.status, 200, "the JWKS is still served from memory");
        assert.ok((await served.json()).keys.length > 0);

        store!.fault = null;
        assert.equal((await fetch("/register", jsonPost({ username: "bob", email: "bob@example.com" }))).status, 201);
        await app.refresh(); // the 2 s tick: retries the pending auth_logs rows
        assert.equal(app.loginLog.pending, 0);
        assert.equal((await fetch("/auth", jsonPost(ALICE))).status, 200, "logins are back");
        await app.loginLog.flush();
      } finally {
        await app.close();
      }
      const db = new DatabaseSync(path);
      try {
        const logins = db.prepare("SELECT COUNT(*) AS n FROM auth_logs").get() as { n: number };
        assert.equal(Number(logins.n), 3, "every answered login was recorded, including the one during the fault");
      } finally {
        db.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test({
  name: "createApp() opens PostgreSQL for a postgres:// database and Redis for a redis:// rate-limit store",
  ignore: postgres.url === null || redis.url === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = serviceEnvironment(postgres.url!, redis.url!, "jwks_app");
    const lines: string[] = [];
    const config = loadConfig({ db: env.db, "rate-limit-store": env.rateLimitStore, alg: "EdDSA" }, {});
    const app = await createApp(config, {
      clock: () => Date.now(),
      masterSecret: NOT_MY_KEY,
      hasher: argon2AtMinimumCost,
      log: createLogger({ level: "info", clock: () => Date.now(), write: (line) => lines.push(line) }),
    });
    try {
      assert.match(app.store.description, /^postgres(ql)?:\/\/.*schema=jwks_app_/);
      assert.ok(app.rateLimiter instanceof RedisRateLimiter);
      assert.equal((await app.rateLimiter.check("auth|192.0.2.1", Date.now())).remaining, 9);
      assert.ok(lines.some((line) => line.includes('"msg":"rate_limits_shared"')));
      assert.equal((await query(env.raw, "SELECT COUNT(*) AS n FROM keys"))[0]!.n, "3");
    } finally {
      await app.close();
      await env.dispose();
    }
  },
});
