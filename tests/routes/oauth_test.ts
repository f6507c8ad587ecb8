import assert from "node:assert/strict";
import type { Route } from "../../lib/http/router.ts";
import { oauthRoutes } from "../../lib/routes/oauth.ts";
import { grantDeps } from "../support/grants.ts";
import { withApp } from "../support/helpers.ts";

Deno.test("oauthRoutes() mounts /token, /introspect, /revoke and /userinfo with their methods", async () => {
  await withApp({}, (app) => {
    const routes: Route[] = oauthRoutes({
      ...grantDeps(app),
      clients: app.clients,
      users: app.users,
      maxTokenTtl: app.config.maxTokenTtl,
    });
    const methods = Object.fromEntries(routes.map((route) => [route.path, Object.keys(route.methods).sort()]));
    assert.deepEqual(Object.keys(methods).sort(), ["/introspect", "/revoke", "/token", "/userinfo"]);
    assert.deepEqual(methods["/token"], ["POST"]);
    assert.deepEqual(methods["/introspect"], ["POST"]);
    assert.deepEqual(methods["/revoke"], ["POST"]);
    assert.deepEqual(methods["/userinfo"], ["GET", "POST"]);
  });
});

Deno.test("the OAuth routes share one set of deps: a token /token issues is active at /introspect, and /revoke ends it", async () => {
  await withApp({}, async (app) => {
    const form = (fields: Record<string, string>) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    const issued = await (await app.fetch("/token", form({ grant_type: "client_credentials", client_id: "svc" })))
      .json();
    assert.equal(typeof issued.access_token, "string");
    const active = async () =>
      (await (await app.fetch("/introspect", form({ token: issued.access_token, client_id: "svc" }))).json()).active;
    assert.equal(await active(), true);
    const revoked = await app.fetch("/revoke", form({ token: issued.access_token, client_id: "svc" }));
    assert.equal(revoked.status, 200);
    await revoked.body?.cancel();
    assert.equal(await active(), false);
  });
});
