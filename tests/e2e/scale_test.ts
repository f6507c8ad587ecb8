import assert from "node:assert/strict";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import pg from "pg";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { KeyManager } from "../../lib/keys/key_manager.ts";
import { loadConfig } from "../../lib/settings.ts";
import { MIGRATION_LOCK, openPostgresStore } from "../../lib/store/postgres.ts";
import { scenario, type StartedServer, startServer } from "../support/server_process.ts";
import { postgresService, query, redisService, serviceEnvironment } from "../support/services.ts";

const postgres = await postgresService("scale_test");
const redis = await redisService("scale_test");
const ignore = postgres.url === null || redis.url === null;
const NOT_MY_KEY = "scale test master secret, 32 bytes";

const environment = () => serviceEnvironment(postgres.url!, redis.url!);

/**
 * Starts `count` servers against `schema` at the same moment: the test holds the lock every
 * start takes before it migrates, waits until all of them queue for it, then lets go, so they
 * race from one instant. Stops them all if any fails to start.
 */
async function startMany(count: number, args: string[], cwd: string, schema: string): Promise<StartedServer[]> {
  const gate = new pg.Client({ connectionString: postgres.url! });
  await gate.connect();
  let started: PromiseSettledResult<StartedServer>[];
  try {
    await gate.query("SELECT pg_advisory_lock($1, hashtext($2))", [MIGRATION_LOCK, schema]);
    const starting = Promise.allSettled(
      Array.from({ length: count }, () => startServer({ cwd, args, env: { NOT_MY_KEY }, timeoutMs: 30_000 })),
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await gate.query(
        "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::bigint::oid",
        [MIGRATION_LOCK],
      );
      if (Number(rows[0].n) >= count) break;
      if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${count} instances reached the database`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await gate.query("SELECT pg_advisory_unlock($1, hashtext($2))", [MIGRATION_LOCK, schema]);
    started = await starting;
  } finally {
    await gate.end();
  }
  const servers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failed = started.find((result) => result.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(servers.map((server) => server.stop("SIGKILL")));
    throw (failed as PromiseRejectedResult).reason;
  }
  return servers;
}

/** The key rows as states at `now` (unix seconds), from the shared database. */
async function keyStates(raw: string, now: number): Promise<string[]> {
  const rows = await query(
    raw,
    `SELECT k.exp, m.activates_at, m.retires_at, m.revoked_at
       FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid ORDER BY k.kid`,
  );
  return rows.map((row) => {
    if (Number(row.exp) <= now || row.revoked_at !== null) return "expired";
    if (now < Number(row.activates_at)) return "next";
    return now < Number(row.retires_at) ? "active" : "retired";
  });
}

const created = (servers: StartedServer[]) =>
  servers.flatMap((server) => server.lines.filter((line) => line.includes('"msg":"key_created"')));

async function jwksOf(server: StartedServer): Promise<{ etag: string; jwks: JSONWebKeySet }> {
  const response = await fetch(`${server.url}/.well-known/jwks.json`);
  assert.equal(response.status, 200);
  return { etag: response.headers.get("etag")!, jwks: await response.json() };
}

async function login(server: StartedServer, username: string, password: string, ip: string): Promise<Response> {
  return await fetch(`${server.url}/auth`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify({ username, password }),
  });
}

scenario(
  "three instances started at once on one empty database act as one: keys, tokens, users, rate limits",
  async () => {
    const env = environment();
    const cwd = await Deno.makeTempDir();
    let servers: StartedServer[] = [];
    try {
      servers = await startMany(
        3,
        [
          "--db",
          env.db,
          "--rate-limit-store",
          env.rateLimitStore,
          "--trust-proxy",
          "loopback",
          "--hash-concurrency",
          "1",
        ],
        cwd,
        env.schema,
      );
      const [a, b, c] = servers as [StartedServer, StartedServer, StartedServer];

      // Keys: exactly what one instance alone creates, once.
      assert.equal(created(servers).length, 3, created(servers).join("\n"));
      const states = await keyStates(env.raw, Date.now() / 1000);
      assert.deepEqual([...states].sort(), ["active", "expired", "next"], "one active, one next, one expired key");
      const published = await Promise.all(servers.map(jwksOf));
      assert.equal(new Set(published.map((p) => p.etag)).size, 1, "every instance publishes the same key set");
      assert.deepEqual([...Deno.readDirSync(cwd)], [], "no SQLite file or secret on the side");

      // Users: registered on one, logging in on the others.
      const registered = await fetch(`${a.url}/register`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.10" },
        body: JSON.stringify({ username: "alice", email: "alice@example.com" }),
      });
      assert.equal(registered.status, 201);
      const { password } = await registered.json();
      const duplicate = await fetch(`${c.url}/register`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.10" },
        body: JSON.stringify({ username: "alice", email: "other@example.com" }),
      });
      assert.equal(duplicate.status, 409, "the username is taken on every instance");
      await duplicate.body?.cancel();

      // Tokens: one from each instance, each verifying against every instance's JWKS.
      const tokens: string[] = [];
      for (const server of [b, c, a]) {
        const response = await login(server, "alice", password, "192.0.2.20");
        assert.equal(response.status, 200, await response.clone().text());
        tokens.push((await response.json()).token);
      }
      for (const token of tokens) {
        for (const { jwks } of published) {
          const { payload } = await jwtVerify(token, createLocalJWKSet(jwks));
          assert.equal(payload.sub, "alice");
        }
      }

      // The auth log is shared too: three logins, from three instances, in one table.
      const deadline = Date.now() + 5000;
      let logged = 0;
      while (Date.now() < deadline) {
        const [row] = await query(
          env.raw,
          "SELECT COUNT(*) AS n FROM auth_logs JOIN users ON users.id = auth_logs.user_id WHERE username = $1",
          ["alice"],
        );
        logged = Number(row!.n);
        if (logged >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(logged, 3);

      // Rate limits: eleven logins for one IP, spread over the three instances within a second.
      const responses = await Promise.all(
        Array.from({ length: 11 }, (_, i) => login(servers[i % 3]!, "alice", password, "198.51.100.23")),
      );
      const statuses = responses.map((response) => response.status);
      await Promise.all(responses.map((response) => response.body?.cancel()));
      assert.equal(statuses.filter((status) => status === 200).length, 10, statuses.join(","));
      assert.equal(statuses.filter((status) => status === 429).length, 1, statuses.join(","));
      const refused = responses.find((response) => response.status === 429)!;
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      for (const server of servers) {
        assert.ok(!server.lines.some((line) => line.includes("rate_limit_store_unavailable")), "Redis was used");
      }
      assert.deepEqual(await Promise.all(servers.map((server) => server.stop())), [0, 0, 0], "graceful stops");
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
      await env.dispose();
      await Deno.remove(cwd, { recursive: true });
    }
  },
  { ignore },
);

scenario("a rotation step that falls due on three instances at once runs exactly once", async () => {
  const env = environment();
  const cwd = await Deno.makeTempDir();
  let servers: StartedServer[] = [];
  try {
    // An instance that ran 610 s ago with ten-minute rotation: its next key signs since 10 s, so
    // the step that publishes a successor is due now, and the one after it only in ~7 minutes:
    // however slowly the three start, there is exactly one step to run.
    const config = loadConfig({ "rotate-every": "600s", alg: "EdDSA" }, {});
    const startedAt = Date.now() - 610_000;
    const store = await openPostgresStore(env.db, { secret: secretCheck(createSealer(NOT_MY_KEY)) });
    try {
      const keys = new KeyManager({
        store,
        sealer: createSealer(NOT_MY_KEY),
        policy: config.policy,
        clock: () => startedAt,
      });
      await keys.apply();
    } finally {
      await store.close();
    }
    const before = await keyStates(env.raw, Date.now() / 1000);
    assert.deepEqual([...before].sort(), ["active", "expired", "retired"], "the due step has not run yet");

    servers = await startMany(
      3,
      [
        "--db",
        env.db,
        "--rate-limit-store",
        env.rateLimitStore,
        "--rotate-every",
        "600s",
        "--alg",
        "EdDSA",
        "--auth",
        "open",
      ],
      cwd,
      env.schema,
    );

    // One instance runs the due step; the others find it done and create nothing.
    const byServer = servers.map((server) => created([server]).length);
    assert.deepEqual(byServer.toSorted(), [0, 0, 1], `one new next key in all:\n${created(servers).join("\n")}`);
    const after = await keyStates(env.raw, Date.now() / 1000);
    assert.equal(after.length, before.length + 1);
    assert.equal(after.filter((state) => state === "active").length, 1, "exactly one active key");
    assert.equal(after.filter((state) => state === "next").length, 1, "exactly one next key");
    const published = await Promise.all(servers.map(jwksOf));
    assert.equal(new Set(published.map((p) => p.etag)).size, 1, "every instance publishes the same key set");
    for (const server of servers) {
      const response = await fetch(`${server.url}/auth`, { method: "POST" });
      const { token } = await response.json();
      for (const { jwks } of published) await jwtVerify(token, createLocalJWKSet(jwks));
    }

    // A change made elsewhere (an operator's rotation) reaches every instance's JWKS by polling.
    const operator = await openPostgresStore(env.db, { secret: secretCheck(createSealer(NOT_MY_KEY)) });
    try {
      const keys = new KeyManager({
        store: operator,
        sealer: createSealer(NOT_MY_KEY),
        policy: config.policy,
        clock: () => Date.now(),
      });
      const { events } = await keys.apply({ kind: "rotate" });
      const kid = events.find((event) => event.event === "key_created")!.kid;
      const deadline = Date.now() + 15_000;
      let seen: boolean[] = [];
      while (Date.now() < deadline) {
        seen = await Promise.all(
          servers.map(async (server) => (await jwksOf(server)).jwks.keys.some((key) => key.kid === kid)),
        );
        if (seen.every(Boolean)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(seen, [true, true, true], "every instance publishes the new key");
    } finally {
      await operator.close();
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await env.dispose();
    await Deno.remove(cwd, { recursive: true });
  }
}, { ignore });
