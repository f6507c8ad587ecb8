import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { publicStoreError } from "../../lib/store/ports.ts";
import { storeContractForEveryBackend } from "../support/store_contract.ts";

// ports.ts is the storage contract: the shared contract suite checks every backend the registry
// lists against it (PostgreSQL when DATABASE_URL is set).
await storeContractForEveryBackend();

Deno.test("publicStoreError() keeps the code, hides the database and the driver, and keeps the detail as cause", async (t) => {
  const detail = (code: "unavailable" | "corrupt_data" | "internal") =>
    new AppError(code, 'Database "postgres://app:hunter2@db/prod" failed (connection refused)');
  await t.step("an outage is 503 with Retry-After", () => {
    const detailed = detail("unavailable");
    const error = publicStoreError(detailed);
    assert.equal(error.code, "unavailable");
    assert.equal(error.message, "The database is unavailable right now; try again shortly");
    assert.equal(error.retryAfter, 2);
    assert.equal(error.cause, detailed);
  });
  await t.step("damage says so, without Retry-After", () => {
    const error = publicStoreError(detail("corrupt_data"));
    assert.equal(error.message, "The database is damaged");
    assert.equal(error.retryAfter, undefined);
  });
  await t.step("anything else is a generic failure; no message names the database or the password", () => {
    const error = publicStoreError(detail("internal"));
    assert.equal(error.code, "internal");
    assert.equal(error.message, "The database failed");
    for (const code of ["unavailable", "corrupt_data", "internal"] as const) {
      assert.ok(!/hunter2|postgres:|refused/.test(publicStoreError(detail(code)).message));
    }
  });
});
