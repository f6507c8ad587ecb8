import assert from "node:assert/strict";
import { formatDuration, parseBoolean, parseDuration, parseRateLimit, parseSize } from "../../lib/core/units.ts";

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

Deno.test("parseDuration() takes whole numbers with an optional unit, and nothing else", () => {
  const accepted: [string, number][] = [[" 30s ", 30], ["0", 0], ["2 m", 120]];
  for (const [text, seconds] of accepted) assert.equal(parseDuration(text), seconds, text);
  for (const text of ["", "m", "-5s", "5w", "1h30m", "five"]) assert.equal(parseDuration(text), null, text);
});

Deno.test("parseRateLimit() reads N per window, off, and refuses empty windows", () => {
  const accepted: [string, number, number][] = [["100/m", 100, 60_000], ["3/2s", 3, 2000], [" 10/S ", 10, 1000]];
  for (const [text, limit, windowMs] of accepted) assert.deepEqual(parseRateLimit(text), { limit, windowMs }, text);
  for (const text of ["OFF", "none", "0"]) assert.equal(parseRateLimit(text), null, text);
  for (const text of ["fast", "10", "10/d", "10/0s", "/s", "-1/s"]) assert.equal(parseRateLimit(text), undefined, text);
});

Deno.test("parseSize() reads bytes with binary or decimal units", () => {
  const accepted: [string, number][] = [
    ["1048576", 1_048_576],
    ["64KiB", 65_536],
    ["64 kib", 65_536],
    ["2kB", 2000],
    ["1MiB", 1_048_576],
    ["3MB", 3_000_000],
    ["7b", 7],
  ];
  for (const [text, bytes] of accepted) assert.equal(parseSize(text), bytes, text);
  for (const text of ["", "1GiB", "1.5MiB", "-1", "KiB"]) assert.equal(parseSize(text), null, text);
});

Deno.test("parseBoolean() reads the usual words, empty as false, and nothing else", () => {
  for (const text of ["1", "true", "YES", " on "]) assert.equal(parseBoolean(text), true, text);
  for (const text of ["0", "false", "No", "off", ""]) assert.equal(parseBoolean(text), false, text);
  for (const text of ["2", "maybe", "truee"]) assert.equal(parseBoolean(text), undefined, text);
});

Deno.test("formatDuration() writes the shortest text that parses back to the same seconds", () => {
  const cases: [number, string][] = [[0, "0s"], [59, "59s"], [60, "1m"], [90, "90s"], [7200, "2h"], [86_400, "1d"]];
  for (const [seconds, text] of cases) {
    assert.equal(formatDuration(seconds), text);
    assert.equal(parseDuration(text), seconds);
  }
});
