import assert from "node:assert/strict";
import { createLogger, silentLogger } from "../../lib/ops/log.ts";
import { testClock } from "../support/helpers.ts";

Deno.test("log lines redact fields named like secrets and keep the time of each line", () => {
  const clock = testClock();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: "info", clock, write: (line) => lines.push(JSON.parse(line)) });
  log.info("a", { password: "p1", adminToken: "t1", authorization: "Basic x", user: "u" });
  clock.advance(1);
  log.info("b", { password: "p2", error: new RangeError("bad") });
  log.debug("hidden", {});
  assert.deepEqual(lines, [
    {
      time: new Date(clock() - 1).toISOString(),
      level: "info",
      msg: "a",
      password: "[redacted]",
      adminToken: "[redacted]",
      authorization: "[redacted]",
      user: "u",
    },
    {
      time: new Date(clock()).toISOString(),
      level: "info",
      msg: "b",
      password: "[redacted]",
      error: { name: "RangeError", message: "bad" },
    },
  ]);
});

/** A logger at `level` that keeps its lines as text. */
function logger(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const log = createLogger({ ...(level ? { level } : {}), clock: testClock(), write: (line) => lines.push(line) });
  return { log, lines, parsed: () => lines.map((line) => JSON.parse(line)) };
}

Deno.test("a logger writes its level and above, info by default", () => {
  const levels = ["debug", "info", "warn", "error"] as const;
  for (const [rank, level] of levels.entries()) {
    const { log, parsed } = logger(level);
    assert.equal(log.level, level);
    for (const name of levels) log[name](name);
    assert.deepEqual(parsed().map((line) => line.level), levels.slice(rank), level);
  }
  const { log, parsed } = logger();
  assert.equal(log.level, "info");
  log.debug("no");
  log.info("yes");
  assert.deepEqual(parsed().map((line) => line.msg), ["yes"]);
});

Deno.test("every field named like a secret is redacted, whatever its case", () => {
  const { log, parsed } = logger();
  const fields = {
    pass: 1,
    Password: 2,
    clientSecret: 3,
    refresh_token: 4,
    Authorization: 5,
    cookie: 6,
    privateKey: 7,
    d: 8,
    user: "kept",
    kid: "kept",
    id: "kept",
  };
  log.info("x", fields);
  const line = parsed()[0]!;
  for (
    const name of ["pass", "Password", "clientSecret", "refresh_token", "Authorization", "cookie", "privateKey", "d"]
  ) {
    assert.equal(line[name], "[redacted]", name);
  }
  assert.deepEqual([line.user, line.kid, line.id], ["kept", "kept", "kept"]);
});

Deno.test("errors are logged by name, message, code and cause, two causes deep", () => {
  const { log, parsed } = logger();
  const root = new Error("disk full");
  const middle = new TypeError("write failed", { cause: root });
  const top = Object.assign(new Error("request failed", { cause: middle }), { code: "unavailable" });
  const deep = new Error("a", { cause: new Error("b", { cause: new Error("c", { cause: new Error("d") }) }) });
  log.error("boom", { error: top, other: deep });
  const line = parsed()[0]!;
  assert.deepEqual(line.error, {
    name: "Error",
    message: "request failed",
    code: "unavailable",
    cause: { name: "TypeError", message: "write failed", cause: { name: "Error", message: "disk full" } },
  });
  assert.deepEqual(line.other, {
    name: "Error",
    message: "a",
    cause: { name: "Error", message: "b", cause: { name: "Error", message: "c" } },
  });
});

Deno.test("infoSerialized() writes pre-serialized fields as one info line, and only at info or below", () => {
  const { log, lines } = logger("info");
  log.infoSerialized('re"quest', '"status":200,"path":"/x"');
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: "2026-11-22T00:00:00.000Z",
    level: "info",
    msg: 're"quest',
    status: 200,
    path: "/x",
  });
  const quiet = logger("warn");
  quiet.log.infoSerialized("request", '"a":1');
  assert.deepEqual(quiet.lines, []);
  silentLogger.error("nothing happens");
  assert.equal(silentLogger.level, "error");
});

function lineOf(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: Record<string, unknown>[] = [];
  createLogger({ clock: testClock(), write: (line) => lines.push(JSON.parse(line)) }).info("m", fields);
  const { time: _time, level: _level, msg: _msg, ...rest } = lines[0]!;
  return rest;
}

Deno.test("secrets are redacted at any depth: nested objects, arrays, error causes", () => {
  const cause = Object.assign(new Error("driver said no"), { code: "E1" });
  assert.deepEqual(
    lineOf({
      user: { name: "alice", password: "hunter2" },
      jwk: { kty: "RSA", n: "n", d: "private-exponent" },
      req: { headers: { Cookie: "sid=1", "x-other": "ok" } },
      keys: [{ kid: "a", d: "private" }, { kid: "b" }],
      config: { clientSecret: "s", newPassword: "p", port: 8080 },
      error: new Error("outer", { cause }),
    }),
    {
      user: { name: "alice", password: "[redacted]" },
      jwk: { kty: "RSA", n: "n", d: "[redacted]" },
      req: { headers: { Cookie: "[redacted]", "x-other": "ok" } },
      keys: [{ kid: "a", d: "[redacted]" }, { kid: "b" }],
      config: { clientSecret: "[redacted]", newPassword: "[redacted]", port: 8080 },
      error: { name: "Error", message: "outer", cause: { name: "Error", message: "driver said no", code: "E1" } },
    },
  );
});

Deno.test("a cycle or a very deep value ends in a marker instead of failing the line", () => {
  const loop: Record<string, unknown> = { name: "loop" };
  loop.self = loop;
  let deep: Record<string, unknown> = { token: "t" };
  for (let i = 0; i < 10; i++) deep = { next: deep };
  const line = lineOf({ loop, deep });
  assert.deepEqual(line.loop, { name: "loop", self: "[circular]" });
  assert.ok(!JSON.stringify(line).includes('"t"'), "the deep token is not written");
  assert.match(JSON.stringify(line.deep), /\[too deep\]/);
});
