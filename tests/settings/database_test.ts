import assert from "node:assert/strict";
import { DATABASE_SETTINGS, DEFAULT_DB } from "../../lib/settings/database.ts";
import { backendFor } from "../../lib/store/registry.ts";
import { Invalid } from "../../lib/settings/define.ts";

Deno.test("the default database is the grader's file in the working directory", () => {
  assert.equal(DEFAULT_DB, "./totally_not_my_privateKeys.db");
  assert.equal(DATABASE_SETTINGS.db.fallback, DEFAULT_DB);
  assert.deepEqual(DATABASE_SETTINGS.db.env, ["JWKS_DB", "DATABASE_URL"], "JWKS_DB wins over DATABASE_URL");
});

Deno.test("--db values go to the backend that takes them: postgres:// and postgresql:// in any case", () => {
  for (const url of ["postgres://u@h/db", "postgresql://h/db", "POSTGRES://h/db"]) {
    assert.equal(backendFor(url).name, "PostgreSQL", url);
  }
  for (const db of ["keys.db", ":memory:", "/tmp/postgres://x", "postgres:/h"]) {
    assert.equal(backendFor(db).name, "SQLite", db);
  }
});

Deno.test("--db takes a path, :memory: or a postgres URL, and never shows a refused URL", () => {
  const parse = DATABASE_SETTINGS.db.parse;
  for (const db of ["keys.db", "./a/b.db", ":memory:", "postgres://u:pw@h/db", "C:/keys.db"]) {
    assert.equal(parse(db), db);
  }
  for (const url of ["mysql://root:hunter2@h/db", "sqlite://x.db", "redis://h"]) {
    assert.throws(() => parse(url), (error: Invalid) => {
      assert.equal(error.why, "expected a file path, :memory: or a postgres:// URL");
      assert.equal(error.show, false, "a URL can hold a password");
      return true;
    });
  }
});

Deno.test("the key settings parse their values and keep the master secret out of flags and errors", () => {
  const s = DATABASE_SETTINGS;
  assert.equal(s.masterSecret.flag, null);
  assert.equal(s.masterSecret.secret, true);
  assert.equal(s.masterSecret.parse("  spaced secret "), "  spaced secret ");
  for (const spec of [s.previousSecret, s.newSecret]) {
    assert.equal(spec.flag, null, "a secret is never a flag");
    assert.equal(spec.secret, true);
  }
  assert.equal(s.alg.parse("EdDSA"), "EdDSA");
  assert.throws(() => s.alg.parse("eddsa"), /expected one of RS256, PS256, ES256, EdDSA/);
  assert.equal(s.tokenTtl.parse("1"), 1);
  assert.throws(() => s.tokenTtl.parse("0"), /at least 1 seconds/);
  assert.equal(s.rotationInterval.parse("1h"), 3600);
  assert.throws(() => s.rotationInterval.parse("59"), /at least 60 seconds/);
  assert.equal(s.clockSkew.parse("0"), 0);
  assert.equal(s.retention.parse("7d"), 604_800);
  assert.equal(s.logLevel.parse("WARN"), "warn");
  assert.throws(() => s.logLevel.parse("verbose"), /expected debug, info, warn or error/);
  assert.deepEqual(
    Object.fromEntries(Object.entries(s).map(([key, spec]) => [key, spec.fallback])),
    {
      db: DEFAULT_DB,
      masterSecret: null,
      previousSecret: null,
      newSecret: null,
      tokenTtl: 900,
      alg: "RS256",
      rotationInterval: 86_400,
      clockSkew: 60,
      retention: 604_800,
      logLevel: "info",
    },
  );
  for (const spec of Object.values(s)) assert.equal(spec.scope, "db");
});
