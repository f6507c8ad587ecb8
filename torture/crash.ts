/**
 * Crash safety: kills the real server with SIGKILL at seeded random moments — during start-up or
 * while registration, logins, JWKS fetches and key rotation run concurrently — then restarts it
 * and checks what users were promised: the database passes `PRAGMA integrity_check`, every user
 * who got a 201 is still there and can log in, every key the JWKS published is still published
 * with the same public key until its `exp`, every token issued still verifies, and exactly one
 * key signs. Rotation pressure comes from a `KeyManager` in this process on the same file, which
 * takes the same immediate-transaction path as the server's own rotation.
 *
 * Run alone: `CRASH_ROUNDS=50 deno task torture crash` (SEED=… to replay).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { createSealer, secretCheck } from "../lib/core/seal.ts";
import { KeyManager } from "../lib/keys/key_manager.ts";
import { loadConfig } from "../lib/settings.ts";
import { openSqliteStore } from "../lib/store/sqlite.ts";
import { type ServerProcess, spawnServer, waitListening } from "../tests/support/server_process.ts";
import { call, canonicalJwk, failureLog, type Outcome, postJson, sleep } from "./harness.ts";
import { createRng, type Rng } from "./prng.ts";

/** Options of {@linkcode runCrash}. */
export interface CrashOptions {
  /** SIGKILL rounds. */
  rounds: number;
  seed: number;
  /** Share of rounds killed during start-up instead of under load. Default 0.2. */
  startupKillShare?: number;
  /**
   * Answered requests in a load phase before its kill: seeded between these bounds. Counting
   * answers (not milliseconds) makes a run do the same work on a fast and a loaded machine.
   * Default [5, 120].
   */
  opsBeforeKill?: readonly [number, number];
  /** Successful registrations every load phase has before its kill. Default 2. */
  registrationsBeforeKill?: number;
  /** A load phase that has not reached its counts by then fails the run. Default 60 s. */
  loadTimeoutMs?: number;
  /** Concurrent clients during the load phase. Default 4. */
  workers?: number;
  /** Share of load phases with concurrent rotations from a second connection. Default 0.6. */
  rotateShare?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a crash run did and found. */
export interface CrashReport {
  readonly seed: number;
  readonly rounds: number;
  readonly startupKills: number;
  readonly loadKills: number;
  readonly registered: number;
  readonly logins: number;
  readonly tokensChecked: number;
  readonly kidsSeen: number;
  readonly rotations: number;
  readonly integrityChecks: number;
  readonly finalLogins: number;
  readonly seconds: number;
  /** Broken promises; empty when the run passed. */
  readonly failures: readonly string[];
}

/** The master secret of crash runs; fixed so a failing run's directory can be inspected. */
export const CRASH_SECRET = "crash test master secret, 32 bytes+";
const SERVER_ARGS = ["--rotate-every", "60s", "--rate-limit", "off", "--auth", "password"];

interface User {
  readonly password: string;
  readonly round: number;
}

interface Token {
  readonly token: string;
  readonly exp: number;
}

interface KeyRow {
  thumbprint: string;
  exp: number;
  revoked_at: number | null;
  public_jwk: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Runs the crash scenario in a fresh temporary directory, which is removed when the run passes. */
export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const rng = createRng(options.seed);
  const killRng = rng.fork("kills");
  const dir = await Deno.makeTempDir({ prefix: "jwks-crash-" });
  const dbPath = `${dir}/totally_not_my_privateKeys.db`;
  const env = { NOT_MY_KEY: CRASH_SECRET };
  const args = [...SERVER_ARGS, "--db", dbPath];
  const policy = loadConfig({ "rotate-every": "60s" }, {}).policy;

  const { failures, fail } = failureLog(log);
  const users = new Map<string, User>();
  const jwkByKid = new Map<string, string>();
  let tokens: Token[] = [];
  const counts = { startupKills: 0, loadKills: 0, logins: 0, tokensChecked: 0, rotations: 0, integrity: 0 };
  let finalLogins = 0;
  let server: ServerProcess | null = null;
  let url = "";
  let userSeq = 0;

  const noteJwks = (text: string, where: string): JSONWebKeySet | null => {
    let set: JSONWebKeySet;
    try {
      set = JSON.parse(text);
    } catch {
      fail(`${where}: JWKS body is not JSON`);
      return null;
    }
    for (const key of set.keys) {
      const kid = String(key.kid);
      const text = canonicalJwk(key as Record<string, unknown>);
      const known = jwkByKid.get(kid);
      if (known === undefined) jwkByKid.set(kid, text);
      else if (known !== text) fail(`${where}: kid ${kid} was published with a different key than before`);
    }
    return set;
  };
  const noteToken = (token: string) => {
    const exp = Number(decodeJwt(token).exp);
    tokens.push({ token, exp });
    // Keep the check bounded: the newest 400 tokens are always kept.
    if (tokens.length > 800) tokens = tokens.slice(-400);
  };
  const serverError = (outcome: Outcome, what: string) => {
    if (outcome.ok && outcome.status >= 500) fail(`${what}: ${outcome.status} ${outcome.text.slice(0, 200)}`);
  };

  // The load phase: registrations, logins, JWKS fetches, expired tokens. Transport errors are
  // what a SIGKILL looks like from outside and are not counted; every answer is.
  let loading = false;
  const phase = { answered: 0, registered: 0 };
  const worker = async (wrng: Rng, round: number) => {
    while (loading) {
      const target = url;
      const op = wrng.next();
      if (op < 0.35) {
        const username = `u${round}x${userSeq++}`;
        const outcome = await postJson(`${target}/register`, { username, email: `${username}@example.com` });
        serverError(outcome, "POST /register");
        if (outcome.ok) phase.answered++;
        if (outcome.ok && outcome.status === 201) {
          phase.registered++;
          users.set(username, { password: JSON.parse(outcome.text).password, round });
        } else if (outcome.ok && outcome.status !== 201) {
          fail(`POST /register ${username}: ${outcome.status} ${outcome.text}`);
        }
      } else if (op < 0.75 && users.size > 0) {
        const names = [...users.keys()];
        const username = wrng.chance(0.5)
          ? names[names.length - 1 - wrng.int(0, Math.min(5, names.length - 1))]!
          : wrng.pick(names);
        const expired = wrng.chance(0.1);
        const outcome = await postJson(`${target}/auth${expired ? "?expired=true" : ""}`, {
          username,
          password: users.get(username)!.password,
        });
        serverError(outcome, "POST /auth");
        if (outcome.ok) phase.answered++;
        if (outcome.ok && outcome.status === 200) {
          counts.logins++;
          if (!expired) noteToken(JSON.parse(outcome.text).token);
        } else if (outcome.ok) fail(`POST /auth ${username}: ${outcome.status} ${outcome.text}`);
      } else {
        const outcome = await call(`${target}/.well-known/jwks.json`);
        serverError(outcome, "GET /jwks");
        if (outcome.ok) phase.answered++;
        if (outcome.ok && outcome.status === 200) noteJwks(outcome.text, `round ${round} load`);
      }
    }
  };

  // Rotation from a second connection, as `keys rotate` or another instance would do it.
  const sealer = createSealer(CRASH_SECRET);
  const rotate = async (rrng: Rng, until: () => boolean) => {
    const store = openSqliteStore(dbPath, { secret: secretCheck(sealer) });
    try {
      const manager = new KeyManager({ store, sealer, policy, clock: () => Date.now() });
      while (until()) {
        await sleep(rrng.int(20, 300));
        if (!until()) break;
        try {
          await manager.apply(rrng.chance(0.7) ? { kind: "rotate" } : { kind: "maintain" });
          counts.rotations++;
        } catch (error) {
          fail(`rotation from a second connection failed: ${error instanceof Error ? error.message : error}`);
        }
      }
    } finally {
      await store.close();
    }
  };

  const integrity = () => {
    const db = new DatabaseSync(dbPath);
    try {
      const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
      counts.integrity++;
      if (rows.length !== 1 || rows[0]!.integrity_check !== "ok") {
        fail(`integrity_check: ${rows.map((row) => row.integrity_check).join("; ").slice(0, 300)}`);
      }
      const orphans = db.prepare("PRAGMA foreign_key_check").all();
      if (orphans.length > 0) fail(`foreign_key_check found ${orphans.length} broken references`);
    } finally {
      db.close();
    }
  };

  const start = async (): Promise<boolean> => {
    server = spawnServer({ cwd: dir, args, env });
    try {
      url = await waitListening(server, 30_000);
      return true;
    } catch (error) {
      fail(`the server did not restart: ${error instanceof Error ? error.message : error}`);
      return false;
    }
  };

  // After a restart: what was promised before the kill must hold.
  let checkedUpTo = -1;
  const verify = async (round: number) => {
    const now = nowSeconds();
    const db = new DatabaseSync(dbPath, { readOnly: true });
    let names: Set<string>;
    let rows: Map<string, KeyRow>;
    let active: number;
    try {
      names = new Set(
        (db.prepare("SELECT username FROM users").all() as { username: string }[]).map((r) => r.username),
      );
      rows = new Map(
        (db.prepare(
          `SELECT m.thumbprint, k.exp, m.revoked_at, m.public_jwk FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid`,
        ).all() as unknown as KeyRow[]).map((row) => [row.thumbprint, row]),
      );
      active = Number(
        (db.prepare(
          `SELECT COUNT(*) AS n FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid
            WHERE m.revoked_at IS NULL AND k.exp > ? AND m.activates_at <= ? AND m.retires_at > ?`,
        ).get(now, now, now) as { n: number }).n,
      );
    } finally {
      db.close();
    }
    for (const username of users.keys()) {
      if (!names.has(username)) fail(`round ${round}: user ${username} got a 201 but is gone`);
    }
    if (active !== 1) fail(`round ${round}: ${active} active keys in the database, expected exactly 1`);

    const jwksOutcome = await call(`${url}/.well-known/jwks.json`);
    if (!jwksOutcome.ok || jwksOutcome.status !== 200) {
      fail(`round ${round}: JWKS after restart: ${jwksOutcome.ok ? jwksOutcome.status : jwksOutcome.error}`);
      return;
    }
    const set = noteJwks(jwksOutcome.text, `round ${round} after restart`);
    if (set === null) return;
    const published = new Map(set.keys.map((key) => [String(key.kid), canonicalJwk(key as Record<string, unknown>)]));
    for (const [kid, jwk] of jwkByKid) {
      const row = rows.get(kid);
      if (row === undefined) {
        fail(`round ${round}: key ${kid} was published and is gone from the database`);
        continue;
      }
      if (canonicalJwk(JSON.parse(row.public_jwk)) !== jwk) fail(`round ${round}: key ${kid} changed in the database`);
      if (row.revoked_at === null && Number(row.exp) > now + 1 && published.get(kid) !== jwk) {
        fail(`round ${round}: key ${kid} (exp ${row.exp}) is no longer published after the restart`);
      }
    }
    const jwks = createLocalJWKSet(set);
    const verifyToken = async (token: string, what: string) => {
      try {
        await jwtVerify(token, jwks, { currentDate: new Date() });
        counts.tokensChecked++;
      } catch (error) {
        fail(`round ${round}: ${what} (kid ${decodeProtectedHeader(token).kid}) does not verify: ${error}`);
      }
    };
    for (const { token, exp } of tokens) if (exp > now + 1) await verifyToken(token, "a token issued before the kill");

    // Everyone registered since the last check logs in, and a few older users too.
    const recent = [...users].filter(([, user]) => user.round > checkedUpTo);
    const older = [...users].filter(([, user]) => user.round <= checkedUpTo);
    const sample = [...recent, ...Array.from({ length: Math.min(3, older.length) }, () => rng.pick(older))];
    for (const [username, user] of sample) {
      const outcome = await postJson(`${url}/auth`, { username, password: user.password });
      if (!outcome.ok || outcome.status !== 200) {
        fail(
          `round ${round}: ${username} cannot log in: ${
            outcome.ok ? `${outcome.status} ${outcome.text}` : outcome.error
          }`,
        );
      } else {
        await verifyToken(JSON.parse(outcome.text).token, `a token issued after the restart`);
      }
    }
    checkedUpTo = round;
    const ready = await call(`${url}/readyz`);
    if (!ready.ok || ready.status !== 200) {
      fail(`round ${round}: /readyz after restart: ${ready.ok ? ready.text : ready.error}`);
    }
  };

  const report = (): CrashReport => ({
    seed: options.seed,
    rounds: counts.startupKills + counts.loadKills,
    startupKills: counts.startupKills,
    loadKills: counts.loadKills,
    registered: users.size,
    logins: counts.logins,
    tokensChecked: counts.tokensChecked,
    kidsSeen: jwkByKid.size,
    rotations: counts.rotations,
    integrityChecks: counts.integrity,
    finalLogins,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    failures,
  });

  try {
    if (!await start()) return report();
    for (let round = 0; round < options.rounds && failures.length === 0; round++) {
      if (killRng.chance(options.startupKillShare ?? 0.2)) {
        // Kill the running server under no load, then kill its successor while it starts.
        server!.kill("SIGKILL");
        await server!.exited;
        server = spawnServer({ cwd: dir, args, env });
        await sleep(killRng.int(10, 250));
        server.kill("SIGKILL");
        await server.exited;
        counts.startupKills++;
      } else {
        loading = true;
        phase.answered = phase.registered = 0;
        const workers = Array.from(
          { length: options.workers ?? 4 },
          (_, i) => worker(rng.fork(`w${round}.${i}`), round),
        );
        const rotating = killRng.chance(options.rotateShare ?? 0.6)
          ? rotate(rng.fork(`r${round}`), () => loading)
          : Promise.resolve();
        const [fewest, most] = options.opsBeforeKill ?? [5, 120];
        const ops = killRng.int(fewest, most);
        const registrations = options.registrationsBeforeKill ?? 2;
        const deadline = Date.now() + (options.loadTimeoutMs ?? 60_000);
        while (phase.answered < ops || phase.registered < registrations) {
          if (Date.now() > deadline) {
            fail(`round ${round}: ${phase.answered} answers and ${phase.registered} registrations in the load phase`);
            break;
          }
          await sleep(5);
        }
        server!.kill("SIGKILL");
        await server!.exited;
        loading = false;
        await Promise.all([...workers, rotating]);
        counts.loadKills++;
      }
      integrity();
      if (!await start()) break;
      await verify(round);
      if ((round + 1) % 10 === 0) {
        log(
          `round ${
            round + 1
          }/${options.rounds}: ${users.size} users, ${jwkByKid.size} kids, ${counts.rotations} rotations`,
        );
      }
    }

    // At the end every user ever registered logs in, not just a sample.
    if (failures.length === 0 && server !== null && (server as ServerProcess).running()) {
      const queue = [...users];
      const login = async () => {
        for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
          const [username, user] = entry;
          const outcome = await postJson(`${url}/auth`, { username, password: user.password });
          if (outcome.ok && outcome.status === 200) finalLogins++;
          else {fail(
              `end: ${username} cannot log in: ${outcome.ok ? `${outcome.status} ${outcome.text}` : outcome.error}`,
            );}
        }
      };
      await Promise.all([login(), login()]);
      const code = await (server as ServerProcess).stop("SIGTERM");
      if (code !== 0) fail(`a graceful stop after the run exited ${code}`);
      integrity();
    }
  } finally {
    if (server !== null) await (server as ServerProcess).stop("SIGKILL");
    if (failures.length === 0) await Deno.remove(dir, { recursive: true });
    else log(`kept ${dir} for inspection`);
  }
  return report();
}

/** The report as table rows. */
export function crashRows(report: CrashReport): [string, string | number][] {
  return [
    ["SIGKILL rounds", report.rounds],
    ["  during start-up", report.startupKills],
    ["  under load", report.loadKills],
    ["users registered (201)", report.registered],
    ["logins during load", report.logins],
    ["users logged in at the end", report.finalLogins],
    ["tokens re-verified after restarts", report.tokensChecked],
    ["kids published", report.kidsSeen],
    ["rotations from a second connection", report.rotations],
    ["integrity checks", report.integrityChecks],
    ["failures", report.failures.length],
    ["seconds", report.seconds],
  ];
}
