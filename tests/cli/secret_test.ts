import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import { createSealer } from "../../lib/core/seal.ts";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { body, testClock, withApp } from "../support/helpers.ts";

const NEW = "the new master secret, 32 bytes!";

Deno.test("secret rotate seals every key under NEW_NOT_MY_KEY; kids, JWKS and old tokens are unchanged", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  let jwks = "";
  let token = "";
  await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
    jwks = await (await app.fetch("/jwks")).text();
    token = (await body<{ token: string }>(await app.fetch("/auth", { method: "POST" }))).token;
  }, { clock, secret: SECRET });

  await t.step("both secrets come from the environment; a missing or weak one is a configuration error", async () => {
    const missing = await cli(["secret", "rotate"], { env: ws.env, clock });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Set NEW_NOT_MY_KEY to the new master secret/);
    const same = await cli(["secret", "rotate"], { env: { ...ws.env, NEW_NOT_MY_KEY: SECRET }, clock });
    assert.match(same.stderr, /NEW_NOT_MY_KEY is the same as NOT_MY_KEY/);
    const weak = await cli(["secret", "rotate"], { env: { ...ws.env, NEW_NOT_MY_KEY: "short" }, clock });
    assert.match(weak.stderr, /at least 16 bytes/);
    const { NOT_MY_KEY: _, ...noCurrent } = ws.env;
    const current = await cli(["secret", "rotate"], { env: { ...noCurrent, NEW_NOT_MY_KEY: NEW }, clock });
    assert.equal(current.code, 2);
    assert.match(current.stderr, /Set NOT_MY_KEY to the current master secret/);
    assert.ok(![missing, same, weak, current].some((r) => r.stderr.includes(NEW) || r.stderr.includes(SECRET)));
  });
  await t.step("rotate: every key and the secret check, in one go", async () => {
    const result = await cli(["secret", "rotate"], { env: { ...ws.env, NEW_NOT_MY_KEY: NEW }, clock });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Re-sealed 3 private keys and the secret check with NEW_NOT_MY_KEY/);
    assert.ok(!result.stdout.includes(NEW));
  });
  await t.step("the old secret is refused now, the new one opens the same keys", async () => {
    assert.match((await cli(["keys", "list"], { env: ws.env, clock })).stderr, /NOT_MY_KEY does not match/);
    await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
      assert.equal(await (await app.fetch("/jwks")).text(), jwks, "the same JWKS, byte for byte");
      await jwtVerify(token, createLocalJWKSet(JSON.parse(jwks)), { currentDate: new Date(clock()) });
    }, { clock, secret: NEW });
  });
  await t.step("run again after it succeeded: nothing to do, and it says which secret to use", async () => {
    const again = await cli(["secret", "rotate"], { env: { ...ws.env, NEW_NOT_MY_KEY: NEW }, clock });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already; set NOT_MY_KEY to it/);
  });
});

Deno.test("a server started with NOT_MY_KEY_PREVIOUS serves an unrotated database and re-seals it", async () => {
  await using ws = await workspace();
  const clock = testClock();
  let jwks = "";
  await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
    jwks = await (await app.fetch("/jwks")).text();
  }, { clock, secret: SECRET });
  await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
    assert.equal(await (await app.fetch("/jwks")).text(), jwks);
    assert.equal((await app.fetch("/auth", { method: "POST" })).status, 200);
  }, { clock, secret: NEW, app: { previousSecret: SECRET } });
  // keys rotate loads (and so opens) every published key: the new secret alone does it now.
  const rotate = await cli(["keys", "rotate"], { env: { ...ws.env, NOT_MY_KEY: NEW }, clock });
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.match((await cli(["keys", "list"], { env: ws.env, clock })).stderr, /does not match/);
});

Deno.test("during a rolling change, a key another instance seals with the old secret is sealed again at the next tick", async () => {
  await using ws = await workspace();
  const clock = testClock();
  await withApp({ db: ws.db, alg: "ES256" }, async (old) => {
    await withApp({ db: ws.db, alg: "ES256" }, async (next) => {
      // The instance still on the old secret makes a key after the new one re-sealed everything.
      await old.keys.apply({ kind: "rotate" });
      await next.refresh();
      const sealer = createSealer(NEW);
      const keys = await next.store.listKeys();
      assert.ok(keys.length >= 4, "the old instance added a key");
      for (const key of keys) sealer.open(key.id, key.blob);
    }, { clock, secret: NEW, app: { previousSecret: SECRET } });
  }, { clock, secret: SECRET });
});
