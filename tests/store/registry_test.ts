import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { postgresBackend } from "../../lib/store/postgres.ts";
import { backendFor, BACKENDS, describeBackends, findBackend, openStore } from "../../lib/store/registry.ts";
import { sqliteBackend } from "../../lib/store/sqlite.ts";
import { CONTRACT_HARNESSES, contractSecret } from "../support/store_contract.ts";

Deno.test("every backend in the registry has a contract harness", () => {
  assert.deepEqual(BACKENDS.map((backend) => backend.name).filter((name) => !(name in CONTRACT_HARNESSES)), []);
});

Deno.test("the registry picks a backend by the --db value", async (t) => {
  await t.step("paths and :memory: are SQLite files, or not files at all", () => {
    for (const db of ["./totally_not_my_privateKeys.db", "/var/lib/jwks/keys.db", "keys.db", ":memory:"]) {
      assert.equal(findBackend(db), sqliteBackend, db);
    }
    assert.equal(sqliteBackend.isFile("./keys.db"), true);
    assert.equal(sqliteBackend.isFile(":memory:"), false);
    assert.equal(sqliteBackend.needsSecret, false);
  });
  await t.step("postgres:// URLs are PostgreSQL, a server that needs NOT_MY_KEY", () => {
    assert.equal(findBackend("postgres://h/db"), postgresBackend);
    assert.equal(findBackend("postgresql://u@h:5432/db?schema=s"), postgresBackend);
    assert.equal(postgresBackend.isFile("postgres://h/db"), false);
    assert.equal(postgresBackend.needsSecret, true);
  });
  await t.step("a URL no backend takes is refused without echoing it", async () => {
    assert.equal(findBackend("mysql://root:hunter2@h/db"), null);
    assert.throws(
      () => backendFor("mysql://root:hunter2@h/db"),
      (error: AppError) =>
        error.code === "invalid_config" && !error.message.includes("hunter2") &&
        error.message.includes(describeBackends()),
    );
    await assert.rejects(
      openStore("mysql://root:hunter2@h/db", { secret: contractSecret }),
      (error: AppError) => error.code === "invalid_config",
    );
  });
});

Deno.test("describeBackends() lists every backend's --db values in one phrase", () => {
  assert.equal(describeBackends(), "a file path, :memory: or a postgres:// URL");
});
