import assert from "node:assert/strict";
import { type RequestRecord } from "../../lib/http/router.ts";
import { accessLog, MAX_LOGGED_PATH } from "../../lib/ops/access_log.ts";
import { createLogger } from "../../lib/ops/log.ts";
import { captureLog, testClock, withApp } from "../support/helpers.ts";

Deno.test("the access log writes one line per request with what an operator needs and no more", async (t) => {
  const log = captureLog();
  const records: RequestRecord[] = [];
  const hook = accessLog(log);
  await withApp({}, async (app) => {
    const get = (path: string, init: RequestInit = {}) =>
      app.fetch(path, { ...init, ip: "192.0.2.7" }).then((r) => r.body?.cancel());
    await t.step("method, path, route, status, duration, client IP and request id", async () => {
      await get("/auth?expired=true", {
        method: "POST",
        headers: { authorization: "Basic YWxpY2U6aHVudGVyMg==", "x-request-id": "req-1" },
      });
      assert.equal(log.lines.length, 1);
      const line = log.lines[0]!;
      assert.deepEqual(Object.keys(line).sort(), [
        "ip",
        "level",
        "method",
        "ms",
        "msg",
        "path",
        "requestId",
        "route",
        "status",
        "time",
      ]);
      assert.equal(line.msg, "request");
      assert.equal(line.level, "info");
      assert.equal(line.method, "POST");
      assert.equal(line.path, "/auth", "no query string");
      assert.equal(line.route, "/auth");
      assert.equal(line.status, 200);
      assert.equal(line.ip, "192.0.2.7");
      assert.equal(line.requestId, "req-1");
      assert.equal(typeof line.ms, "number");
      assert.ok(!JSON.stringify(line).includes("YWxpY2U6aHVudGVyMg"), "no header value");
    });
    await t.step("an absurd path or method is cut short", async () => {
      await get(`/${"a".repeat(5000)}`);
      const line = log.lines.at(-1)!;
      assert.equal(line.route, "unmatched");
      assert.equal(line.status, 404);
      assert.equal(String(line.path).length, MAX_LOGGED_PATH + 1);
      hook({ method: "X".repeat(100), path: "/", route: "/", status: 405, ms: 0.1234567, ip: "::1", requestId: "r" });
      assert.equal(String(log.lines.at(-1)!.method).length, 16);
      assert.equal(log.lines.at(-1)!.ms, 0.123);
      const odd = '/q"x\\y\n\u00e9\u0000';
      hook({ method: "GET", path: odd, route: "unmatched", status: 404, ms: 12.0005, ip: "::1", requestId: "r" });
      assert.equal(log.lines.at(-1)!.path, odd, "quotes, backslashes, controls and non-ASCII stay valid JSON");
      assert.equal(log.lines.at(-1)!.ms, 12.001);
    });
  }, { app: { onRequest: (record) => (records.push(record), hook(record)) } });
  await t.step("at LOG_LEVEL=warn there is no access log", () => {
    const lines: string[] = [];
    const quiet = accessLog(createLogger({ level: "warn", clock: testClock(), write: (line) => lines.push(line) }));
    quiet(records[0]!);
    assert.deepEqual(lines, []);
  });
});
