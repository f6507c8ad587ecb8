import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { AppError } from "../../lib/core/errors.ts";
import {
  checkPages,
  checkSameFile,
  createPrivateFile,
  fileIdentity,
  fileSize,
  tightenModes,
} from "../../lib/store/sqlite_file.ts";

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An `unavailable` error matching `pattern` whose message carries no path (`/readyz` shows it). */
const unavailable = (pattern: RegExp) => (error: AppError) =>
  error.code === "unavailable" && pattern.test(error.message) && !error.message.includes("keys.db");

Deno.test("checkPages() accepts a whole database and refuses one cut off mid-page", () =>
  withDir((dir) => {
    const path = `${dir}/keys.db`;
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    checkPages(db, path, fileSize(path)!);
    assert.throws(
      () => checkPages(db, path, fileSize(path)! - 100),
      (error: AppError) => error.code === "corrupt_data" && /is truncated: \d+ bytes/.test(error.message),
    );
    db.close();
  }));

Deno.test("checkSameFile() tells a moved, replaced or unwritable file from the one that was opened", () =>
  withDir(async (dir) => {
    const path = `${dir}/keys.db`;
    await Deno.writeTextFile(path, "x");
    const identity = fileIdentity(path)!;
    checkSameFile(path, identity);
    await Deno.chmod(path, 0o400);
    if (Deno.uid() !== 0) assert.throws(() => checkSameFile(path, identity), unavailable(/not readable and writable/));
    await Deno.rename(path, `${path}.moved`);
    assert.throws(() => checkSameFile(path, identity), unavailable(/missing \(moved or deleted\)/));
    await Deno.writeTextFile(path, "y");
    assert.throws(() => checkSameFile(path, identity), unavailable(/replaced by another file/));
  }));

Deno.test("an in-memory database and a missing file have no identity and no size", () => {
  assert.equal(fileIdentity(":memory:"), null);
  assert.equal(fileIdentity("/nonexistent/keys.db"), null);
  assert.equal(fileSize("/nonexistent/keys.db"), null);
});

Deno.test("createPrivateFile() makes a missing database owner-only; tightenModes() fixes one others can read", () =>
  withDir((dir) => {
    const path = `${dir}/keys.db`;
    createPrivateFile(path);
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    Deno.writeTextFileSync(path, "kept");
    createPrivateFile(path);
    assert.equal(Deno.readTextFileSync(path), "kept", "an existing file is left as it is");
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      Deno.writeTextFileSync(file, "x");
      Deno.chmodSync(file, 0o644);
    }
    assert.deepEqual(tightenModes(path), [path, `${path}-wal`, `${path}-shm`]);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(Deno.statSync(file).mode! & 0o777, 0o600);
    assert.deepEqual(tightenModes(path), [], "nothing to do the second time");
  }));
