import assert from "node:assert/strict";
import { body, withApp } from "../support/helpers.ts";

Deno.test("GET /probe/tokens serves the catalogue in open mode, never cached, with the request id", async () => {
  await withApp({}, async (app) => {
    const response = await app.fetch("/probe/tokens", { headers: { "x-request-id": "probe-req-1" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-id"), "probe-req-1");
    assert.match(response.headers.get("cache-control") ?? "", /no-store/);
    const json = await body<{ control: { token: string }; cases: unknown[] }>(response);
    assert.equal(typeof json.control.token, "string");
    assert.ok(json.cases.length >= 25);
  });
});

Deno.test("GET /probe/tokens does not exist in password mode, and only GET is answered", async () => {
  await withApp({ auth: "password" }, async (app) => {
    const response = await app.fetch("/probe/tokens");
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
  await withApp({}, async (app) => {
    const response = await app.fetch("/probe/tokens", { method: "POST" });
    assert.equal(response.status, 405);
    await response.body?.cancel();
  });
});
