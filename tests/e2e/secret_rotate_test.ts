/**
 * Crash safety of a master-secret rotation, against the real program: `secret rotate` (and a
 * server re-sealing at start with `NOT_MY_KEY_PREVIOUS`) is killed with SIGKILL at moments that
 * home in on its commit, and after every kill each sealed key and the canary must open with
 * one secret, the same for all of them: never a mix, never a blob that opens with neither.
 * Afterwards the keys, kids and JWKS are the ones from before and an old token verifies.
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, jwtVerify } from "jose";
import { CANARY_KID, createSealer, type Sealer, secretCheck } from "../../lib/core/seal.ts";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";
import { KeyManager } from "../../lib/keys/key_manager.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { createRng, seedFrom } from "../../torture/prng.ts";
import { freshKey, withTempDir } from "../support/helpers.ts";
import { scenario, spawnCommand, spawnServer, waitListening } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";
const SECRETS = ["the first master secret, 32 bytes", "the second master secret, 32 byte"] as const;
const sealers = SECRETS.map((secret) => createSealer(secret));

/** Which secret opens every blob (0 or 1); fails on a mix or a blob neither opens. */
function sealedWith(path: string, what: string): 0 | 1 {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const blobs = db.prepare("SELECT k.kid, k.key FROM keys k JOIN jwks_key_meta m ON m.kid = k.kid").all()
      .map((row) => [Number(row.kid), row.key as Uint8Array] as const);
    const canary = db.prepare("SELECT value FROM jwks_settings WHERE name = 'secret_check'").get()!.value as Uint8Array;
    const opens = (sealer: Sealer, kid: number | string, blob: Uint8Array) => {
      try {
        sealer.open(kid, blob);
        return true;
      } catch {
        return false;
      }
    };
    const by = [...blobs, [CANARY_KID, canary] as const].map(([kid, blob]) =>
      opens(sealers[0]!, kid, blob) ? 0 : opens(sealers[1]!, kid, blob) ? 1 : -1
    );
    assert.ok(!by.includes(-1), `${what}: a blob opens with neither secret`);
    assert.equal(new Set(by).size, 1, `${what}: blobs sealed with different secrets (${by.join("")})`);
    return by[0] as 0 | 1;
  } finally {
    db.close();
  }
}

scenario(
  "SIGKILL at any moment of a secret rotation leaves every key under the old secret or all under the new",
  async () => {
    const seed = seedFrom(Deno.env.toObject(), 20261201);
    const rng = createRng(seed);
    await withTempDir(async (cwd) => {
      const path = `${cwd}/${DB}`;
      // A server makes the database; 40 imported keys make the re-seal transaction longer.
      const first = spawnServer({ cwd, env: { NOT_MY_KEY: SECRETS[0] }, args: ["--auth", "open", "--alg", "ES256"] });
      const url = await waitListening(first);
      const token = (await (await fetch(`${url}/auth`, { method: "POST" })).json()).token;
      assert.equal(await first.stop(), 0);
      const store = openSqliteStore(path, { secret: secretCheck(sealers[0]!) });
      const keys = new KeyManager({
        store,
        sealer: sealers[0]!,
        clock: Date.now,
        policy: lifecyclePolicy({ alg: "ES256" }),
      });
      for (let i = 0; i < 40; i++) await keys.apply({ kind: "import", material: await freshKey("ES256") });
      await store.close();
      const jwksBefore = await jwks(cwd, 0);

      let current = sealedWith(path, "before");
      let [low, high] = [0, 3000];
      const outcomes = { before: 0, after: 0, finished: 0 };
      for (let round = 0; round < 12; round++) {
        const next = (1 - current) as 0 | 1;
        const delay = Math.round((low + high) / 2 + rng.int(-20, 20));
        // Every third round the server does the re-seal, at start, with NOT_MY_KEY_PREVIOUS.
        const viaServer = round % 3 === 2;
        const command = viaServer
          ? spawnCommand(["serve", "--port", "0", "--alg", "ES256"], {
            cwd,
            env: { NOT_MY_KEY: SECRETS[next], NOT_MY_KEY_PREVIOUS: SECRETS[current] },
          })
          : spawnCommand(["secret", "rotate"], {
            cwd,
            env: { NOT_MY_KEY: SECRETS[current], NEW_NOT_MY_KEY: SECRETS[next] },
          });
        const timer = setTimeout(() => {
          try {
            command.child.kill("SIGKILL");
          } catch {
            // it finished first
          }
        }, Math.max(0, delay));
        const result = await command.done;
        clearTimeout(timer);
        if (viaServer && result.signal === null) assert.fail(`the server exited by itself: ${result.stderr}`);
        if (!viaServer && result.signal === null) {
          assert.equal(result.code, 0, result.stderr);
          outcomes.finished++;
        }
        const now = sealedWith(path, `round ${round}, killed after ${delay} ms (seed ${seed})`);
        // Bisect on the moment of the commit: kills land ever closer to it.
        if (now === current) [outcomes.before, low] = [outcomes.before + 1, delay];
        else [outcomes.after, high] = [outcomes.after + 1, delay];
        if (high - low < 40) [low, high] = [Math.max(0, low - 200), high + 200];
        current = now;
      }
      console.log(`secret rotate kills (seed ${seed}): ${JSON.stringify(outcomes)}`);
      assert.deepEqual(await jwks(cwd, current), jwksBefore, "the same keys and kids, whichever secret holds them");
      await jwtVerify(token, createLocalJWKSet(JSON.parse(jwksBefore)));
    });
  },
);

/** The JWKS a server with secret `which` publishes for the database in `cwd`. */
async function jwks(cwd: string, which: 0 | 1): Promise<string> {
  const server = spawnServer({ cwd, env: { NOT_MY_KEY: SECRETS[which] }, args: ["--alg", "ES256"] });
  try {
    const url = await waitListening(server);
    return await (await fetch(`${url}/.well-known/jwks.json`)).text();
  } finally {
    assert.equal(await server.stop(), 0);
  }
}
