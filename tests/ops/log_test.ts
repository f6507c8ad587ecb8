import assert from "node:assert/strict";
import { createLogger } from "../../lib/ops/log.ts";
import { testClock } from "../support/helpers.ts";

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
