import assert from "node:assert/strict";
import { AppError, ConfigError, hasCode, SealError } from "../../lib/core/errors.ts";

Deno.test("AppError carries its code, field, Retry-After, headers and cause", () => {
  const cause = new Error("driver detail");
  const error = new AppError("rate_limited", "Too many requests", {
    cause,
    field: "ip",
    retryAfter: 3,
    headers: { "ratelimit-limit": "10" },
  });
  assert.ok(error instanceof Error);
  assert.equal(error.name, "AppError");
  assert.equal(error.code, "rate_limited");
  assert.equal(error.message, "Too many requests");
  assert.equal(error.field, "ip");
  assert.equal(error.retryAfter, 3);
  assert.deepEqual(error.headers, { "ratelimit-limit": "10" });
  assert.equal(error.cause, cause);
  const bare = new AppError("not_found", "No such key");
  assert.equal(bare.field, undefined);
  assert.equal(bare.retryAfter, undefined);
  assert.equal(bare.headers, undefined);
  assert.ok(!("cause" in bare) || bare.cause === undefined);
});

Deno.test("ConfigError and SealError are AppErrors with fixed codes", () => {
  const config = new ConfigError('Invalid --port "x"');
  assert.ok(config instanceof AppError);
  assert.equal(config.name, "ConfigError");
  assert.equal(config.code, "invalid_config");
  const cause = new Error("bad tag");
  const seal = new SealError("Sealed key does not open", { cause });
  assert.ok(seal instanceof AppError);
  assert.equal(seal.name, "SealError");
  assert.equal(seal.code, "wrong_secret");
  assert.equal(seal.cause, cause);
});

Deno.test("hasCode() is true only for an AppError with that code", () => {
  assert.equal(hasCode(new AppError("conflict", "x"), "conflict"), true);
  assert.equal(hasCode(new AppError("conflict", "x"), "not_found"), false);
  assert.equal(hasCode(new SealError("x"), "wrong_secret"), true);
  assert.equal(hasCode(Object.assign(new Error("x"), { code: "conflict" }), "conflict"), false);
  assert.equal(hasCode(null, "conflict"), false);
});
