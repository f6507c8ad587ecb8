import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { resolveMasterSecret, secretFileOf, withMasterSecret } from "../../lib/store/master_secret.ts";

Deno.test("NOT_MY_KEY wins, and a short one is flagged as weak", () => {
  assert.deepEqual(resolveMasterSecret({ db: "x.db", masterSecret: "short" }), {
    secret: "short",
    source: "env",
    file: null,
    weak: true,
  });
  assert.equal(resolveMasterSecret({ db: "x.db", masterSecret: "a secret of at least 16 bytes" }).weak, false);
});

Deno.test("an in-memory database gets a throwaway secret and PostgreSQL needs NOT_MY_KEY", () => {
  const memory = resolveMasterSecret({ db: ":memory:", masterSecret: null });
  assert.equal(memory.source, "ephemeral");
  assert.notEqual(memory.secret, resolveMasterSecret({ db: ":memory:", masterSecret: null }).secret);
  assert.throws(
    () => resolveMasterSecret({ db: "postgres://localhost/jwks", masterSecret: null }),
    (error: unknown) => error instanceof AppError && error.code === "invalid_config",
  );
});

Deno.test("the development secret file is created once with mode 0600, then reused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = `${dir}/keys.db`;
    const created = resolveMasterSecret({ db, masterSecret: null });
    assert.equal(created.source, "created");
    assert.equal(created.file, secretFileOf(db));
    assert.equal((await Deno.stat(created.file!)).mode! & 0o777, 0o600);
    const reused = resolveMasterSecret({ db, masterSecret: null });
    assert.deepEqual({ ...reused, source: "created" }, created);
    await Deno.writeTextFile(created.file!, "\n");
    assert.throws(() => resolveMasterSecret({ db, masterSecret: null }), /Development secret file ".*" is empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withMasterSecret removes a secret file it created when opening fails, and keeps an older one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = `${dir}/keys.db`;
    await assert.rejects(
      withMasterSecret({ db, masterSecret: null }, () => Promise.reject(new Error("disk full"))),
      /disk full/,
    );
    await assert.rejects(Deno.stat(secretFileOf(db)), Deno.errors.NotFound);
    const opened = await withMasterSecret({ db, masterSecret: null }, (secret) => Promise.resolve(secret.length));
    assert.equal(opened.secret.source, "created");
    await assert.rejects(
      withMasterSecret({ db, masterSecret: null }, () => Promise.reject(new Error("locked"))),
      /locked/,
    );
    assert.ok((await Deno.stat(secretFileOf(db))).isFile, "a secret file that was already there stays");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a development secret file that others could read or swap refuses the start with the fix", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const db = `${dir}/keys.db`;
    const file = secretFileOf(db);
    const refused = (pattern: RegExp) => (error: unknown) =>
      error instanceof AppError && error.code === "invalid_config" && pattern.test(error.message) &&
      !error.message.includes("a secret of the test");
    await t.step("mode 0644: chmod 600", () => {
      Deno.writeTextFileSync(file, "a secret of the test\n");
      Deno.chmodSync(file, 0o644);
      assert.throws(
        () => resolveMasterSecret({ db, masterSecret: null }),
        refused(
          new RegExp(
            `^Development secret file "${file}" is readable by others \\(mode 0644\\); run: chmod 600 "${file}"$`,
          ),
        ),
      );
      Deno.chmodSync(file, 0o600);
      assert.equal(resolveMasterSecret({ db, masterSecret: null }).secret, "a secret of the test");
    });
    await t.step("a symlink, even to a 0600 file", () => {
      Deno.renameSync(file, `${dir}/elsewhere`);
      Deno.symlinkSync(`${dir}/elsewhere`, file);
      assert.throws(
        () => resolveMasterSecret({ db, masterSecret: null }),
        refused(/is a symlink; replace it with the file itself/),
      );
      Deno.removeSync(file);
    });
    await t.step("a directory", () => {
      Deno.mkdirSync(file);
      assert.throws(() => resolveMasterSecret({ db, masterSecret: null }), refused(/is not a regular file/));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
