import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { describeSqliteError, isBusyError, runtimeSqliteError } from "../../lib/store/sqlite_errors.ts";

const PATH = "/var/lib/jwks/keys.db";

Deno.test("describeSqliteError() maps SQLite's errors to the AppError code a caller switches on", async (t) => {
  const cases: [string, string][] = [
    ["file is not a database", "corrupt_data"],
    ["database disk image is malformed", "corrupt_data"],
    ["unable to open database file", "unavailable"],
    ["attempt to write a readonly database", "unavailable"],
    ["permission denied", "unavailable"],
    ["database or disk is full", "unavailable"],
    ["disk I/O error", "unavailable"],
    ["database is locked", "unavailable"],
    ["SQLITE_BUSY: database is busy", "unavailable"],
    ["no such table: keys", "internal"],
    ["UNIQUE constraint failed: users.username", "internal"],
  ];
  for (const [message, code] of cases) {
    await t.step(`"${message}" is ${code}`, () => {
      const cause = new Error(message);
      const error = describeSqliteError(cause, PATH);
      assert.ok(error instanceof AppError);
      assert.equal(error.code, code);
      assert.equal(error.cause, cause, "the driver's error is kept as the cause");
      assert.ok(error.message.includes(`"${PATH}"`), "the operator's message names the file");
    });
  }
  await t.step("a lock says to try again, without the driver's words", () => {
    assert.equal(
      describeSqliteError(new Error("database is locked"), PATH).message,
      `Database "${PATH}" is busy; try again`,
    );
  });
  await t.step("a thrown non-Error is described too", () => {
    assert.equal(describeSqliteError("disk I/O error", PATH).code, "unavailable");
  });
});

Deno.test("isBusyError() is true only for a described lock, the one failure worth an immediate retry", () => {
  assert.equal(isBusyError(describeSqliteError(new Error("database is locked"), PATH)), true);
  assert.equal(isBusyError(describeSqliteError(new Error("database is busy"), PATH)), true);
  assert.equal(
    isBusyError(describeSqliteError(new Error("disk I/O error"), PATH)),
    false,
    "unavailable, but not a lock",
  );
  assert.equal(isBusyError(new Error("database is locked")), false, "an undescribed driver error");
  assert.equal(isBusyError(new AppError("internal", "locked")), false);
});

Deno.test("runtimeSqliteError() tells a client what failed without the path or the driver's words", () => {
  const full = runtimeSqliteError(new Error("database or disk is full"), PATH);
  assert.equal(full.code, "unavailable");
  assert.equal(full.retryAfter, 2);
  assert.ok(!full.message.includes(PATH) && !full.message.includes("disk is full"), full.message);
  assert.ok((full.cause as AppError).message.includes(PATH), "the detail stays in the cause, for the log");
  const damaged = runtimeSqliteError(new Error("file is not a database"), PATH);
  assert.equal(damaged.code, "corrupt_data");
  assert.equal(damaged.message, "The database is damaged");
  assert.equal(damaged.retryAfter, undefined);
  assert.equal(runtimeSqliteError(new Error("no such table: x"), PATH).message, "The database failed");
});
