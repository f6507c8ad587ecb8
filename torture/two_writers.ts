/**
 * Two processes, one database file: two real servers started at the same instant on a fresh
 * file (same `NOT_MY_KEY`), serving and rotating for a sustained run while a third connection
 * rotates keys under them and clients register on one and log in on the other. Checks, all the
 * time: never two active keys; a kid one server publishes is published by the other within one
 * refresh tick (2 s) plus slack; a token from one verifies against the other's JWKS after that;
 * no 5xx and no `SQLITE_BUSY`/"locked" text ever reaches a client.
 *
 * Run alone: `TWO_WRITERS_SECONDS=60 deno task torture two-writers` (SEED=… to replay).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { createSealer, secretCheck } from "../lib/core/seal.ts";
import { KeyManager } from "../lib/keys/key_manager.ts";
import { loadConfig } from "../lib/settings.ts";
import { openSqliteStore } from "../lib/store/sqlite.ts";
import { type ServerProcess, spawnServer, waitListening } from "../tests/support/server_process.ts";
import { call, canonicalJwk, failureLog, type Outcome, postJson, sleep } from "./harness.ts";
import { createRng, type Rng } from "./prng.ts";

/** Options of {@linkcode runTwoWriters}. */
export interface TwoWritersOptions {
  /** How long both serve, in seconds. */
  seconds: number;
  seed: number;
  /**
   * Milliseconds between rotations from the third connection, drawn from [min, max]. Default
   * 30–90 s: rarer than the 60 s key life, so the chain drains and the two servers themselves
   * must publish each successor (their 2 s ticks and cron minutes racing). Short runs rotate
   * every few seconds instead, to have new kids to propagate.
   */
  rotateMs?: readonly [number, number];
  /** Concurrent clients. Default 4. */
  workers?: number;
  log?: (line: string) => void;
}

/** What a two-writer run did and found. */
export interface TwoWritersReport {
  readonly seed: number;
  readonly seconds: number;
  readonly requests: number;
  readonly registeredA: number;
  readonly registeredB: number;
  readonly crossLogins: number;
  readonly jwksPolls: number;
  readonly activeChecks: number;
  readonly kids: number;
  readonly rotations: number;
  readonly serverKeyEvents: number;
  readonly tokensCrossVerified: number;
  /** Longest time a kid was in one server's JWKS before the other's, in ms. */
  readonly maxLagMs: number;
  readonly busyOr5xx: number;
  readonly failures: readonly string[];
}

const SECRET = "two writers master secret, 32 byte";
/** One refresh tick of `main.ts` (2 s) plus slack for polling and a loaded machine. */
const TOLERANCE_MS = 3500;

/** Runs two servers on one fresh database file. */
export async function runTwoWriters(options: TwoWritersOptions): Promise<TwoWritersReport> {
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const dir = await Deno.makeTempDir({ prefix: "jwks-two-" });
  const dbPath = `${dir}/shared.db`;
  const env = { NOT_MY_KEY: SECRET };
  const args = [
    "--db",
    dbPath,
    "--rotate-every",
    "60s",
    "--rate-limit",
    "off",
    "--seed-user",
    "shared:shared-password-0123",
  ];
  const { failures, fail } = failureLog(log);
  const counts = {
    requests: 0,
    registered: [0, 0],
    crossLogins: 0,
    polls: 0,
    activeChecks: 0,
    rotations: 0,
    tokens: 0,
    busy: 0,
  };
  const firstSeen = [new Map<string, number>(), new Map<string, number>()];
  const jwkByKid = new Map<string, string>();
  let maxLag = 0;
  const pendingTokens: { token: string; at: number; from: number }[] = [];
  const users: { username: string; password: string; on: number }[] = [];
  const servers: ServerProcess[] = [];
  let running = true;

  const note = (outcome: Outcome, what: string) => {
    counts.requests++;
    if (!outcome.ok) {
      if (running) fail(`${what}: ${outcome.error}`);
      return;
    }
    // Only error bodies are searched: a token's base64 can spell "busy" by chance.
    if (outcome.status >= 500 || (outcome.status >= 400 && /busy|locked|SQLITE/i.test(outcome.text))) {
      counts.busy++;
      fail(`${what}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
    }
  };

  try {
    // Both start at the same instant on a file that does not exist yet.
    servers.push(spawnServer({ cwd: dir, args, env }), spawnServer({ cwd: dir, args, env }));
    const urls = await Promise.all(servers.map((server) => waitListening(server)));
    const started = Date.now();
    const until = started + options.seconds * 1000;
    const live = () => running && Date.now() < until;
    log(`two writers: ${urls.join(" and ")} on ${dbPath}`);

    const monitor = new DatabaseSync(dbPath, { readOnly: true });
    const activeCount = monitor.prepare(
      `SELECT COUNT(*) AS n FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid
        WHERE m.revoked_at IS NULL AND k.exp > ? AND m.activates_at <= ? AND m.retires_at > ?`,
    );
    const keyRow = monitor.prepare(
      `SELECT k.exp, m.revoked_at FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid WHERE m.thumbprint = ?`,
    );
    const publishable = (kid: string, now: number) => {
      const row = keyRow.get(kid) as { exp: number; revoked_at: number | null } | undefined;
      return row !== undefined && row.revoked_at === null && Number(row.exp) > now / 1000 + 1;
    };

    const poll = async (index: number) => {
      const other = 1 - index;
      while (live()) {
        const outcome = await call(`${urls[index]}/.well-known/jwks.json`);
        note(outcome, `GET /jwks on ${"AB"[index]}`);
        const at = Date.now();
        if (outcome.ok && outcome.status === 200) {
          counts.polls++;
          const set = JSON.parse(outcome.text) as JSONWebKeySet;
          const kids = new Set(set.keys.map((key) => String(key.kid)));
          for (const key of set.keys) {
            const kid = String(key.kid);
            const text = canonicalJwk(key as Record<string, unknown>);
            const known = jwkByKid.get(kid);
            if (known === undefined) jwkByKid.set(kid, text);
            else if (known !== text) fail(`kid ${kid} is published with two different keys`);
            if (!firstSeen[index]!.has(kid)) {
              firstSeen[index]!.set(kid, at);
              const there = firstSeen[other]!.get(kid);
              if (there !== undefined) maxLag = Math.max(maxLag, at - there);
            }
          }
          // Everything the other server has published for longer than a tick must be here.
          for (const [kid, since] of firstSeen[other]!) {
            if (since <= at - TOLERANCE_MS && !kids.has(kid) && publishable(kid, at)) {
              fail(`kid ${kid} in ${"AB"[other]}'s JWKS since ${at - since} ms ago is missing from ${"AB"[index]}'s`);
              firstSeen[other]!.set(kid, Infinity); // report once
            }
          }
          // Tokens from the other server, old enough, must verify here.
          const jwks = createLocalJWKSet(set);
          for (let i = 0; i < pendingTokens.length;) {
            const pending = pendingTokens[i]!;
            if (pending.from === other && pending.at <= at - TOLERANCE_MS) {
              pendingTokens.splice(i, 1);
              try {
                await jwtVerify(pending.token, jwks);
                counts.tokens++;
              } catch (error) {
                fail(
                  `a token from ${"AB"[other]} (kid ${
                    decodeProtectedHeader(pending.token).kid
                  }) does not verify against ${"AB"[index]}'s JWKS: ${error}`,
                );
              }
            } else {
              i++;
            }
          }
        }
        const now = Math.floor(Date.now() / 1000);
        const active = Number((activeCount.get(now, now, now) as { n: number }).n);
        counts.activeChecks++;
        if (active !== 1) fail(`${active} active keys at ${now}`);
        await sleep(rng.int(50, 250));
      }
    };

    const client = async (crng: Rng) => {
      while (live()) {
        const on = crng.int(0, 1);
        if (users.length === 0 || crng.chance(0.4)) {
          const username = `w${crng.int(0, 1e9)}`;
          const outcome = await postJson(`${urls[on]}/register`, { username });
          note(outcome, `POST /register on ${"AB"[on]}`);
          if (outcome.ok && outcome.status === 201) {
            counts.registered[on]!++;
            users.push({ username, password: JSON.parse(outcome.text).password, on });
          } else if (outcome.ok && outcome.status !== 409) fail(`POST /register: ${outcome.status} ${outcome.text}`);
        } else {
          const user = crng.pick(users);
          const there = 1 - user.on;
          const outcome = await postJson(`${urls[there]}/auth`, { username: user.username, password: user.password });
          note(outcome, `POST /auth on ${"AB"[there]}`);
          if (outcome.ok && outcome.status === 200) {
            counts.crossLogins++;
            if (pendingTokens.length < 500) {
              pendingTokens.push({ token: JSON.parse(outcome.text).token, at: Date.now(), from: there });
            }
          } else if (outcome.ok) {
            fail(
              `${user.username}, registered on ${"AB"[user.on]}, cannot log in on ${
                "AB"[there]
              }: ${outcome.status} ${outcome.text}`,
            );
          }
        }
      }
    };

    const rotator = async (rrng: Rng) => {
      const sealer = createSealer(SECRET);
      const store = openSqliteStore(dbPath, { secret: secretCheck(sealer) });
      const manager = new KeyManager({
        store,
        sealer,
        policy: loadConfig({ "rotate-every": "60s" }, {}).policy,
        clock: () => Date.now(),
      });
      try {
        while (live()) {
          const [min, max] = options.rotateMs ?? [30_000, 90_000];
          const wait = rrng.int(min, max);
          for (const end = Date.now() + wait; live() && Date.now() < end;) await sleep(Math.min(500, end - Date.now()));
          if (!live()) break;
          try {
            await manager.apply({ kind: "rotate" });
            counts.rotations++;
          } catch (error) {
            fail(`rotation on the third connection failed: ${error}`);
          }
        }
      } finally {
        await store.close();
      }
    };

    await Promise.all([
      poll(0),
      poll(1),
      rotator(rng.fork("rotator")),
      ...Array.from({ length: options.workers ?? 4 }, (_, i) => client(rng.fork(`client ${i}`))),
    ]);
    running = false;
    monitor.close();
    for (const [index, server] of servers.entries()) {
      if (!server.running()) fail(`server ${"AB"[index]} died: ${server.stderr().slice(0, 300)}`);
    }
    const codes = await Promise.all(servers.map((server) => server.stop("SIGTERM")));
    if (codes.some((code) => code !== 0)) fail(`graceful stops exited ${codes.join(" and ")}`);
    for (const [index, server] of servers.entries()) {
      for (const line of server.lines) {
        if (line.includes('"level":"error"')) fail(`server ${"AB"[index]} logged: ${line.slice(0, 300)}`);
      }
    }
    const check = new DatabaseSync(dbPath);
    try {
      const rows = check.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
      if (rows.map((row) => row.integrity_check).join() !== "ok") fail("integrity_check after the run is not ok");
    } finally {
      check.close();
    }
  } finally {
    running = false;
    for (const server of servers) await server.stop("SIGKILL");
    if (failures.length === 0) await Deno.remove(dir, { recursive: true });
    else log(`kept ${dir} for inspection`);
  }
  return {
    seed: options.seed,
    seconds: options.seconds,
    requests: counts.requests,
    registeredA: counts.registered[0]!,
    registeredB: counts.registered[1]!,
    crossLogins: counts.crossLogins,
    jwksPolls: counts.polls,
    activeChecks: counts.activeChecks,
    kids: jwkByKid.size,
    rotations: counts.rotations,
    serverKeyEvents: servers.reduce(
      (n, server) => n + server.lines.filter((l) => l.includes('"msg":"key_created"')).length,
      0,
    ),
    tokensCrossVerified: counts.tokens,
    maxLagMs: maxLag,
    busyOr5xx: counts.busy,
    failures,
  };
}

/** The report as table rows. */
export function twoWritersRows(report: TwoWritersReport): [string, string | number][] {
  return [
    ["seconds", report.seconds],
    ["requests", report.requests],
    ["registered on A / on B", `${report.registeredA} / ${report.registeredB}`],
    ["logins on the other server", report.crossLogins],
    ["JWKS polls", report.jwksPolls],
    ["active-key checks (always exactly 1)", report.activeChecks],
    ["kids published", report.kids],
    ["rotations from a third connection", report.rotations],
    ["keys created by the two servers", report.serverKeyEvents],
    ["tokens verified on the other server", report.tokensCrossVerified],
    ["longest kid lag between servers (ms)", report.maxLagMs],
    ["5xx or SQLITE_BUSY seen by clients", report.busyOr5xx],
    ["failures", report.failures.length],
  ];
}
