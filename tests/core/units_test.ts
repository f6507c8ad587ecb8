import assert from "node:assert/strict";
import { parseDuration, parseRateLimit } from "../../lib/core/units.ts";

Deno.test("parseDuration() and parseRateLimit() accept what the help text promises", () => {
  assert.equal(parseDuration("900"), 900);
  assert.equal(parseDuration("15m"), 900);
  assert.equal(parseDuration("1h"), 3600);
  assert.equal(parseDuration("7d"), 604_800);
  assert.equal(parseDuration("1500ms"), 1.5);
  assert.equal(parseDuration("1.5h"), null);
  assert.deepEqual(parseRateLimit("10/s"), { limit: 10, windowMs: 1000 });
  assert.deepEqual(parseRateLimit("5/500ms"), { limit: 5, windowMs: 500 });
  assert.deepEqual(parseRateLimit("60 / h"), { limit: 60, windowMs: 3_600_000 });
  assert.equal(parseRateLimit("off"), null);
  assert.equal(parseRateLimit("0/s"), undefined);
});
