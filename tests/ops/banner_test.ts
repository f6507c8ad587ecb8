import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { readableLine, reportSecret, startBanner, withResetHint } from "../../lib/ops/banner.ts";
import { captureLog } from "../support/helpers.ts";

const info = {
  version: "2.0.0",
  url: "http://127.0.0.1:8080",
  issuer: "http://127.0.0.1:8080",
  db: "sqlite:./totally_not_my_privateKeys.db",
  authMode: "open" as const,
  adminApi: false,
  keys: "RS256, each key signs 1d, tokens live 15m",
  devSecretFile: "./totally_not_my_privateKeys.db.secret",
  warnings: [],
};

Deno.test("the start banner names the URL, the database and the mode, and boxes the development secret", () => {
  const text = startBanner(info);
  assert.match(text, /jwks-server 2\.0\.0 listening on http:\/\/127\.0\.0\.1:8080/);
  assert.match(text, /JWKS\s+http:\/\/127\.0\.0\.1:8080\/\.well-known\/jwks\.json/);
  assert.match(text, /database\s+sqlite:\.\/totally_not_my_privateKeys\.db/);
  assert.match(text, /mode\s+open: a mock issuer/);
  assert.match(text, /admin API\s+off \(set ADMIN_TOKEN\)/);
  const box = text.split("\n").filter((line) => line.trim().startsWith("#"));
  assert.equal(box.length, 6, "a box of four lines");
  assert.match(box[1]!, /WARNING: DEVELOPMENT MASTER SECRET/);
  assert.ok(new Set(box.map((line) => line.length)).size === 1, "every line of the box has the same width");
  assert.ok(!text.includes("\x1b["), "no colour unless asked");
  assert.ok(startBanner(info, { color: true }).includes("\x1b[33m"), "yellow on a terminal");
  const production = startBanner({ ...info, devSecretFile: null, authMode: "password", adminApi: true });
  assert.ok(!production.includes("DEVELOPMENT"));
  assert.match(production, /mode\s+password: registered users only/);
  assert.match(production, /admin API\s+on, http:\/\/127\.0\.0\.1:8080\/admin\/keys/);
});

Deno.test("readableLine() turns a JSON log line into one line a person reads; other text stays", () => {
  assert.equal(
    readableLine(
      JSON.stringify({
        time: "2026-11-22T10:00:01.123Z",
        level: "warn",
        msg: "key_policy_differs",
        by: "serve (pid 7)",
        n: 3,
      }),
    ),
    '10:00:01 warn  key_policy_differs by="serve (pid 7)" n=3',
  );
  assert.equal(
    readableLine(
      '{"time":"2026-11-22T10:00:01.123Z","level":"info","msg":"request","method":"GET","path":"/jwks","status":200,"ms":0.08}',
    ),
    "10:00:01 GET /jwks 200 0.08 ms",
  );
  assert.equal(readableLine("not json"), "not json");
  assert.equal(readableLine("[1]"), "[1]");
});

Deno.test("reportSecret() warns of a development secret, and of a copy that came without its data", () => {
  const log = captureLog();
  reportSecret(log, { secret: "x", source: "file", file: "./db.secret", weak: false }, true);
  assert.deepEqual(log.lines.map((line) => line.msg), ["restore_may_be_incomplete", "development_secret"]);
  assert.match(String(log.lines[0]!.hint), /without its -wal/);
  const quiet = captureLog();
  reportSecret(quiet, { secret: "x", source: "env", file: null, weak: false }, true);
  assert.deepEqual(quiet.lines, [], "NOT_MY_KEY and a new database: a first start");
});

Deno.test("withResetHint() tells how to start over after a wrong secret for a file, and only then", () => {
  const wrong = new AppError("wrong_secret", 'NOT_MY_KEY does not match the secret "./x.db" was created with');
  const hinted = withResetHint(wrong, "./x.db", true) as AppError;
  assert.equal(hinted.code, "wrong_secret");
  assert.match(
    hinted.message,
    /To start over .*: rm -f "\.\/x\.db" "\.\/x\.db-wal" "\.\/x\.db-shm" "\.\/x\.db\.secret"$/,
  );
  assert.equal(withResetHint(wrong, "postgres://db/x", false), wrong);
  const other = new AppError("corrupt_data", "damaged");
  assert.equal(withResetHint(other, "./x.db", true), other);
});
