import assert from "node:assert/strict";
import { createLogger } from "../../lib/ops/log.ts";
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
