import assert from "node:assert/strict";
import type { AppError } from "../../lib/core/errors.ts";
import { createUser } from "../../lib/store/sql_users.ts";
import * as upkeep from "../../lib/store/sql_upkeep.ts";
import { T0 } from "../support/helpers.ts";
import { withProgramDatabase } from "../support/sql_programs.ts";

const policy = {
  rotationInterval: 3600,
  tokenTtl: 300,
  clockSkew: 30,
  retention: 600,
  alg: "ES256" as const,
  cachedMaxAge: 60,
  cachedUntil: 1000,
  updatedAt: 10,
};

Deno.test("the key policy row is written once and read back; an unknown algorithm is corrupt data", async () => {
  await withProgramDatabase(({ run, db }) => {
    assert.equal(run(upkeep.readPolicy("test db")), null);
    run(upkeep.writePolicy(policy));
    run(upkeep.writePolicy({ ...policy, tokenTtl: 900 }));
    assert.deepEqual(run(upkeep.readPolicy("test db")), { ...policy, tokenTtl: 900 });
    db.exec("UPDATE jwks_key_policy SET alg = 'HS256'");
    assert.throws(
      () => run(upkeep.readPolicy("test db")),
      (error: AppError) =>
        error.code === "corrupt_data" && error.message.includes('"HS256"') && error.message.includes("test db"),
    );
  });
});

Deno.test("upkeep.bumpKeysVersion() counts up, keeps each note with its version, and only the last 1,000 notes", async () => {
  await withProgramDatabase(({ run }) => {
    const start = run(upkeep.bumpKeysVersion(undefined));
    const next = run(upkeep.bumpKeysVersion({ at: 5, origin: "o".repeat(300), reason: "r".repeat(50) }));
    assert.equal(next, start + 1);
    const [note] = run(upkeep.readKeyChanges(start));
    assert.deepEqual(note, { version: next, at: 5, origin: "o".repeat(200), reason: "r".repeat(40) }, "bounded text");
    assert.deepEqual(run(upkeep.readKeyChanges(next)), []);
    let last = next;
    for (let i = 0; i < upkeep.KEPT_CHANGE_NOTES + 5; i++) {
      last = run(upkeep.bumpKeysVersion({ at: i, origin: "x", reason: "y" }));
    }
    const kept = run(upkeep.readKeyChanges(0));
    assert.equal(kept.length, upkeep.KEPT_CHANGE_NOTES);
    assert.equal(kept.at(-1)!.version, last);
    assert.equal(kept[0]!.version, last - upkeep.KEPT_CHANGE_NOTES + 1, "oldest first");
  });
});

Deno.test("upkeep.resealKeys() rewrites the canary (and keys) it is given new blobs for, and bumps the version only then", async () => {
  await withProgramDatabase(({ run, rows }) => {
    const before = run(upkeep.bumpKeysVersion(undefined));
    assert.equal(run(upkeep.resealKeys(() => null, { at: 1, origin: "t", reason: "reseal" })), 0);
    assert.equal(run(upkeep.bumpKeysVersion(undefined)), before + 1, "nothing changed, no bump");
    const seen: (number | string)[] = [];
    const changed = run(
      upkeep.resealKeys((kid) => (seen.push(kid), new Uint8Array([1, 2, 3])), { at: 2, origin: "t", reason: "reseal" }),
    );
    assert.equal(changed, seen.length);
    assert.ok(changed >= 1, "the master-secret canary is always re-sealed");
    const [canary] = rows("SELECT value FROM jwks_settings WHERE name = 'secret_check'");
    assert.deepEqual(new Uint8Array(canary!.value as Uint8Array), new Uint8Array([1, 2, 3]));
    assert.equal(run(upkeep.readKeyChanges(before + 1)).at(-1)?.reason, "reseal");
  });
});

Deno.test("upkeep.recordLogins() writes one auth_logs row per login; last_login only moves forward", async () => {
  await withProgramDatabase(({ run, rows }) => {
    const alice = run(createUser({ username: "alice", email: null, passwordHash: "h" }, T0));
    run(upkeep.recordLogins([
      { userId: alice.id, ip: "10.0.0.1", at: T0 + 2000 },
      { userId: alice.id, ip: "10.0.0.2", at: T0 + 1000 },
      { userId: null, ip: "10.0.0.3", at: T0 + 3000 },
    ]));
    assert.deepEqual(
      rows("SELECT request_ip, user_id FROM auth_logs ORDER BY id").map((row) => [row.request_ip, row.user_id]),
      [["10.0.0.1", alice.id], ["10.0.0.2", alice.id], ["10.0.0.3", null]],
    );
    const lastLogin = () => rows("SELECT last_login FROM users WHERE id = ?", alice.id)[0]!.last_login;
    assert.equal(lastLogin(), "2026-11-22 00:00:02");
    run(upkeep.recordLogins([{ userId: alice.id, ip: "10.0.0.1", at: T0 }]));
    assert.equal(lastLogin(), "2026-11-22 00:00:02", "an older batch committing later does not move it back");
  });
});

Deno.test("upkeep.pruneLogins() deletes, among the oldest `limit` rows, those before the cut-off", async () => {
  await withProgramDatabase(({ run, rows }) => {
    run(upkeep.recordLogins([0, 1, 2, 3, 4].map((s) => ({ userId: null, ip: `10.0.0.${s}`, at: T0 + s * 1000 }))));
    assert.equal(run(upkeep.pruneLogins(T0 + 3000, 2)), 2, "at most `limit` per batch");
    assert.equal(run(upkeep.pruneLogins(T0 + 3000, 10)), 1);
    assert.equal(run(upkeep.pruneLogins(T0 + 3000, 10)), 0, "caught up");
    assert.deepEqual(rows("SELECT request_ip FROM auth_logs ORDER BY id").map((row) => row.request_ip), [
      "10.0.0.3",
      "10.0.0.4",
    ]);
  });
});
