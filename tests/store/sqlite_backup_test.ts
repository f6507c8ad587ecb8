import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { AppError } from "../../lib/core/errors.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { checkNotInUse, replaceDatabase, verifyCopy } from "../../lib/store/sqlite_backup.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { insert } from "../support/store_contract.ts";
import { withTempDir } from "../support/helpers.ts";

const sealer = createSealer("sqlite backup test secret, 32 b");
const secret = secretCheck(sealer);

/** A database with two real sealed keys and a login, at `path`. */
async function populated(path: string) {
  const store = openSqliteStore(path, { secret });
  const plaintext = new TextEncoder().encode('{"kty":"OKP"}');
  await store.updateKeys(() => ({
    inserts: [
      insert("a", 1, { seal: (id) => sealer.seal(id, plaintext) }),
      insert("b", 1, {
        seal: (id) => sealer.seal(id, plaintext),
      }),
    ],
    updates: [],
    deletes: [],
  }));
  await store.recordLogins([{ userId: null, ip: "10.0.0.1", at: 0 }]);
  return store;
}

const mode = (path: string) => Deno.statSync(path).mode! & 0o777;

Deno.test("backup() writes a 0600 copy that verifies, and never overwrites a file", async () => {
  await withTempDir(async (dir) => {
    const store = await populated(`${dir}/live.db`);
    try {
      assert.equal(store.created, true, "this open made the database");
      await store.backup(`${dir}/copy.db`);
      assert.equal(mode(`${dir}/copy.db`), 0o600);
      assert.deepEqual(verifyCopy(`${dir}/copy.db`, sealer), {
        keys: 2,
        users: 0,
        logins: 1,
        bytes: Deno.statSync(`${dir}/copy.db`).size,
      });
      await assert.rejects(store.backup(`${dir}/copy.db`), (error: AppError) => error.code === "conflict");
    } finally {
      await store.close();
    }
    const again = openSqliteStore(`${dir}/live.db`, { secret });
    assert.equal(again.created, false, "an existing database is not new");
    await again.close();
  });
});

Deno.test("verifyCopy() refuses a copy that another secret made, a damaged one and a stranger", async (t) => {
  await withTempDir(async (dir) => {
    const store = await populated(`${dir}/live.db`);
    await store.backup(`${dir}/copy.db`);
    await store.close();
    await t.step("another master secret: wrong_secret, before anything is trusted", () => {
      assert.throws(() => verifyCopy(`${dir}/copy.db`, createSealer("another secret")), (error: AppError) => {
        assert.equal(error.code, "wrong_secret");
        return true;
      });
    });
    await t.step("a key that does not open, even under the right canary", () => {
      const db = new DatabaseSync(`${dir}/copy.db`);
      db.exec("UPDATE keys SET key = X'0102' WHERE kid = (SELECT MIN(kid) FROM keys)");
      db.close();
      assert.throws(() => verifyCopy(`${dir}/copy.db`, sealer), (error: AppError) => error.code === "wrong_secret");
    });
    await t.step("a truncated file, an empty one, a missing one, a database of another program", () => {
      const bytes = Deno.readFileSync(`${dir}/live.db`);
      Deno.writeFileSync(`${dir}/cut.db`, bytes.subarray(0, 4096 + 100));
      assert.throws(() => verifyCopy(`${dir}/cut.db`, sealer), (error: AppError) => error.code === "corrupt_data");
      Deno.writeFileSync(`${dir}/empty.db`, new Uint8Array());
      assert.throws(() => verifyCopy(`${dir}/empty.db`, sealer), /is empty/);
      assert.throws(() => verifyCopy(`${dir}/none.db`, sealer), /does not exist/);
      const other = new DatabaseSync(`${dir}/other.db`);
      other.exec("CREATE TABLE notes(text)");
      other.close();
      assert.throws(() => verifyCopy(`${dir}/other.db`, sealer), /holds no jwks-server database/);
    });
  });
});

Deno.test("checkNotInUse() refuses a database another connection has open, and checkpoints one that is free", async () => {
  await withTempDir(async (dir) => {
    const store = await populated(`${dir}/live.db`);
    assert.throws(() => checkNotInUse(`${dir}/live.db`), (error: AppError) => {
      assert.equal(error.code, "conflict");
      assert.match(error.message, /is in use .* stop the server first/);
      return true;
    });
    await store.close();
    checkNotInUse(`${dir}/live.db`);
    assert.throws(() => Deno.statSync(`${dir}/live.db-wal`), Deno.errors.NotFound, "no WAL left");
    checkNotInUse(`${dir}/missing.db`);
  });
});

Deno.test("replaceDatabase() puts the copy in place, keeps the old one and drops its stale WAL", async () => {
  await withTempDir(async (dir) => {
    const store = await populated(`${dir}/copy-source.db`);
    await store.backup(`${dir}/backup.db`);
    await store.close();
    const old = openSqliteStore(`${dir}/live.db`, { secret });
    await old.close();
    const before = Deno.readFileSync(`${dir}/live.db`);
    Deno.writeFileSync(`${dir}/live.db-wal`, new Uint8Array());
    const { kept } = replaceDatabase(`${dir}/backup.db`, `${dir}/live.db`);
    assert.equal(kept, `${dir}/live.db.before-restore`);
    assert.deepEqual(Deno.readFileSync(kept), before);
    assert.deepEqual(Deno.readFileSync(`${dir}/live.db`), Deno.readFileSync(`${dir}/backup.db`));
    assert.equal(mode(`${dir}/live.db`), 0o600);
    assert.throws(() => Deno.statSync(`${dir}/live.db-wal`), Deno.errors.NotFound);
    const restored = openSqliteStore(`${dir}/live.db`, { secret });
    assert.equal((await restored.listKeys()).length, 2);
    await restored.close();
    assert.deepEqual(replaceDatabase(`${dir}/backup.db`, `${dir}/fresh.db`), { kept: null });
  });
});
