/**
 * Upgrades lose nothing: a database made and used by the code of an earlier release (commit
 * `678ede5`, the last one before the shared SQL core, taken from git into a temporary
 * directory and imported as it was) opens with the current code with every key, user and log
 * row intact, and the tokens it signed still verify against the keys the current code loads.
 * Skipped, with the reason, when git or that commit is not there (a shallow clone).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { compactVerify, createLocalJWKSet, importJWK, jwtVerify } from "jose";
import { signClaims } from "../../lib/core/tokens.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { KeyManager } from "../../lib/keys/key_manager.ts";
import { loadConfig } from "../../lib/settings.ts";
import { openStore } from "../../lib/store/registry.ts";
import { argon2AtMinimumCost, T0, testClock } from "../support/helpers.ts";
import { dropSchema, postgresService, query, schemaName, searchPathUrl, withSchema } from "../support/services.ts";

const EARLIER = "678ede5";
const ROOT = new URL("../../", import.meta.url).pathname;
const SECRET = "upgrade test master secret, long enough";
const TABLES = ["keys", "jwks_key_meta", "users", "auth_logs"] as const;

/** Why the earlier code cannot be fetched, or null when it can. */
async function missingHistory(): Promise<string | null> {
  try {
    const { success } = await new Deno.Command("git", {
      args: ["-C", ROOT, "cat-file", "-e", `${EARLIER}^{commit}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? null : `commit ${EARLIER} is not in this clone (shallow?)`;
  } catch {
    return "git is not installed";
  }
}

const skip = await missingHistory();
if (skip !== null) console.warn(`upgrade_test: skipped: ${skip}`);
const postgres = await postgresService("upgrade_test");

/**
 * The earlier release's lib/, extracted flat into `dir` (a path without "lib/", which the
 * coverage report of this repository's lib/ would otherwise pick up).
 */
async function extractEarlierLib(dir: string): Promise<string> {
  const tar = `${dir}/lib.tar`;
  const run = async (command: string, args: string[]) => {
    const { success, stderr } = await new Deno.Command(command, { args, stdout: "null" }).output();
    assert.ok(success, `${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  };
  await run("git", ["-C", ROOT, "archive", "--output", tar, EARLIER, "lib"]);
  await run("tar", ["-xf", tar, "-C", dir, "--strip-components=1"]);
  return `file://${dir}/`;
}

/** What the earlier release wrote, through its own HTTP edge. */
interface Made {
  readonly tokens: { readonly grader: string; readonly registered: string; readonly expired: string };
}

/** Runs the earlier release's app on `db`: seeds, registers, logs in, asks for an expired token. */
async function makeWithEarlierCode(lib: string, db: string, clock: () => number): Promise<Made> {
  const { loadConfig: earlierConfig } = await import(`${lib}config.ts`);
  const { createApp } = await import(`${lib}app.ts`);
  const { handle } = await import(`${lib}http.ts`);
  const config = earlierConfig({ db, auth: "password", "seed-user": ["userABC:password123"] }, {});
  const app = await createApp(config, { clock, masterSecret: SECRET, hasher: argon2AtMinimumCost });
  const call = async (path: string, body: unknown, ip: string) => {
    const response = await handle(
      new Request(`http://127.0.0.1:8080${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      app.deps,
      { remoteAddr: { hostname: ip } },
    );
    assert.ok(response.status < 300, `${path}: ${response.status}`);
    return await response.json();
  };
  try {
    const { password } = await call("/register", { username: "carol", email: "carol@example.com" }, "10.0.0.9");
    const grader = (await call("/auth", { username: "userABC", password: "password123" }, "10.0.0.1")).token;
    const registered = (await call("/auth", { username: "carol", password }, "203.0.113.5")).token;
    const expired = (await call("/auth?expired=true", { username: "userABC", password: "password123" }, "::1")).token;
    return { tokens: { grader, registered, expired } };
  } finally {
    await app.close();
  }
}

/** A table's rows as text (bytes as hex), so two reads compare with deepEqual. */
function normalise(rows: readonly Record<string, unknown>[]): string[][] {
  return rows.map((row) =>
    Object.entries(row).map(([column, value]) =>
      `${column}=${
        value instanceof Uint8Array ? Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("") : String(value)
      }`
    )
  );
}

/** Reads every row of the tables that must survive, and the keys version, raw. */
type Snapshot = () => Promise<{ tables: Record<string, string[][]>; canary: string[][] }>;

async function upgradeScenario(db: string, snapshot: Snapshot): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const lib = await extractEarlierLib(dir);
    const clock = testClock(T0);
    const made = await makeWithEarlierCode(lib, db, clock);
    const before = await snapshot();
    assert.equal(before.tables.keys!.length, 3, "the earlier code made an active, a next and an expired key");
    assert.equal(before.tables.users!.length, 2);
    assert.equal(before.tables.auth_logs!.length, 3, "one row per login");

    const sealer = createSealer(SECRET);
    const store = await openStore(db, { secret: secretCheck(sealer) });
    try {
      assert.deepEqual(await snapshot(), before, "every key, user and log row, and the canary, intact");
      assert.ok((await store.keysVersion()) > 0, "the keys version carried over");

      const { policy } = loadConfig({ db, auth: "password" }, {});
      const keys = new KeyManager({ store, sealer, policy, clock });
      assert.equal((await keys.apply()).changed, false, "nothing to re-plan at the same instant");
      const view = keys.view();
      const jwks = createLocalJWKSet({ keys: [...view.jwks.keys] as never });
      const currentDate = new Date(clock());
      for (const token of [made.tokens.grader, made.tokens.registered]) {
        const { protectedHeader } = await jwtVerify(token, jwks, { currentDate });
        assert.equal(protectedHeader.kid, view.active!.kid, "signed by the key that still signs");
      }
      const expiredKid = JSON.parse(atob(made.tokens.expired.split(".")[0]!)).kid;
      assert.equal(view.expired!.kid, expiredKid, "the expired key is still kept for ?expired=true");
      const stored = (await store.listKeys()).find((key) => key.kid === expiredKid)!;
      await compactVerify(made.tokens.expired, await importJWK(stored.publicJwk, stored.alg));

      // The sealed private key of the earlier code opens under the current code and signs.
      const fresh = await signClaims(view.active!.signer, view.active!, { sub: "x" });
      await jwtVerify(fresh, jwks, { currentDate });

      const alice = await store.findUser("userABC");
      assert.ok(
        alice !== null && await argon2AtMinimumCost.verify(alice.passwordHash, "password123"),
        "passwords still verify",
      );
      await store.recordLogins([{ userId: alice.id, ip: "10.0.0.2", at: clock() }]);
      const after = await snapshot();
      assert.deepEqual(after.tables.auth_logs!.slice(0, 3), before.tables.auth_logs, "new rows come after the old");
      assert.equal(after.tables.auth_logs!.length, 4);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const CANARY = "SELECT name, value FROM jwks_settings WHERE name = 'secret_check'";

Deno.test({
  name: "a SQLite database made by the earlier release opens with every row intact and its tokens verify",
  ignore: skip !== null,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/totally_not_my_privateKeys.db`;
    try {
      await upgradeScenario(path, () => {
        const db = new DatabaseSync(path, { readOnly: true });
        try {
          const rows = (sql: string) => normalise(db.prepare(sql).all());
          const tables = Object.fromEntries(TABLES.map((table) => [table, rows(`SELECT * FROM ${table} ORDER BY 1`)]));
          return Promise.resolve({ tables, canary: rows(CANARY) });
        } finally {
          db.close();
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a PostgreSQL schema made by the earlier release opens with every row intact and its tokens verify",
  ignore: skip !== null || postgres.url === null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const schema = schemaName("jwks_upgrade");
    const raw = searchPathUrl(postgres.url!, schema);
    try {
      await upgradeScenario(withSchema(postgres.url!, schema), async () => {
        const rows = async (sql: string) => normalise(await query(raw, sql));
        const tables: Record<string, string[][]> = {};
        for (const table of TABLES) tables[table] = await rows(`SELECT * FROM ${table} ORDER BY 1`);
        return { tables, canary: await rows(CANARY) };
      });
    } finally {
      await dropSchema(postgres.url!, schema);
    }
  },
});
