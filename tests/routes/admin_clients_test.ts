import assert from "node:assert/strict";
import { body, withApp } from "../support/helpers.ts";
import { basic, formPost } from "../support/oauth.ts";

const TOKEN = "admin-token-for-tests-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };
const json = (payload: unknown, headers: Record<string, string> = bearer): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(payload),
});

Deno.test("OAuth clients through the admin API", async (t) => {
  await withApp({ auth: "password", "rate-limit": "off" }, async (app) => {
    let id = "";
    let secret = "";
    await t.step("POST /admin/clients registers a client and shows its secret once", async () => {
      const response = await app.fetch(
        "/admin/clients",
        json({ name: "reports", scopes: ["reports:read"], grant_types: ["client_credentials"] }),
      );
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const created = await body(response);
      id = String(created.client_id);
      secret = String(created.client_secret);
      assert.equal(created.public, false);
      assert.deepEqual(created.scopes, ["reports:read"]);
      const token = await formPost(app, "/token", { grant_type: "client_credentials" }, basic(id, secret));
      assert.equal(token.status, 200);
      await token.body?.cancel();
    });
    await t.step("GET /admin/clients lists clients without secrets", async () => {
      const listed = await body<{ clients: Record<string, unknown>[] }>(
        await app.fetch("/admin/clients", { headers: bearer }),
      );
      assert.deepEqual(listed.clients.map((client) => client.client_id), [id]);
      assert.ok(!JSON.stringify(listed).includes(secret));
    });
    await t.step("bad input is 400 naming the field", async () => {
      const response = await app.fetch("/admin/clients", json({ name: "x", grant_types: ["implicit"] }));
      assert.equal(response.status, 400);
      assert.equal((await body(response)).field, "grant_types");
    });
    await t.step("POST /admin/clients/remove removes it; its secret stops working", async () => {
      assert.equal((await app.fetch("/admin/clients/remove", json({ id }))).status, 200);
      const token = await formPost(app, "/token", { grant_type: "client_credentials" }, basic(id, secret));
      assert.equal(token.status, 401);
      await token.body?.cancel();
      const again = await app.fetch("/admin/clients/remove", json({ id }));
      assert.equal(again.status, 404);
      assert.equal((await app.fetch("/admin/clients/remove", json({}))).status, 400);
    });
    await t.step("every client route needs the admin token", async () => {
      for (const [path, init] of [["/admin/clients", {}], ["/admin/clients/remove", json({ id }, {})]] as const) {
        const response = await app.fetch(path, init);
        assert.equal(response.status, 401, path);
        await response.body?.cancel();
      }
    });
  }, { env: { ADMIN_TOKEN: TOKEN } });
});
