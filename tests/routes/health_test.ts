import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { importSigningKey } from "../../lib/core/key_material.ts";
import { type KeyView } from "../../lib/core/key_ring.ts";
import { signClaims } from "../../lib/core/tokens.ts";
import { createRouter } from "../../lib/http/router.ts";
import { healthRoutes } from "../../lib/routes/health.ts";
import { body, captureLog, freshKey, from, type TestApp, testApp, withApp, withTempDir } from "../support/helpers.ts";

/** The view `app` has now, with some parts replaced. */
function stubKeys(app: TestApp, change: (view: KeyView) => Partial<KeyView>): { view(): KeyView; now(): number } {
  return {
    view: () => ({ ...app.keys.view(), ...change(app.keys.view()) }),
    now: () => app.keys.now(),
  };
}

Deno.test("GET /healthz answers while the process is alive, whatever the key set or the database", async () => {
  await withApp({}, async (app) => {
    const response = await app.fetch("/healthz");
    assert.equal(response.status, 200);
    assert.deepEqual(await body(response), { status: "ok" });
    assert.equal(response.headers.get("cache-control"), "no-store");
    await app.store.close();
    assert.equal((await app.fetch("/healthz")).status, 200);
    assert.equal((await app.fetch("/readyz")).status, 503);
  });
});

Deno.test("GET /readyz", async (t) => {
  await withApp({}, async (app) => {
    await t.step("is 200 when the database answers, a key signs and the next key is published in time", async () => {
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 200);
      assert.deepEqual(await body(response), { status: "ready" });
    });
    const cases: [string, (view: KeyView) => Partial<KeyView>, RegExp][] = [
      ["no key signs", () => ({ active: null }), /no active signing key/],
      ["no next key is published", () => ({ next: null }), /no published next key/],
      [
        "the next key would sign sooner than the lead time after it was published",
        (view) => ({ next: { ...view.next!, publishedAt: view.next!.activatesAt - 10 } }),
        /less than the lead time/,
      ],
    ];
    for (const [when, change, reason] of cases) {
      await t.step(`is 503 with the reason when ${when}`, async () => {
        const router = createRouter(
          healthRoutes({ keys: stubKeys(app, change), ping: () => app.store.ping(), lead: app.config.policy.lead }),
        );
        const response = await router(new Request("http://x/readyz"), from());
        assert.equal(response.status, 503);
        const doc = await body<{ error: string; message: string; checks: string[] }>(response);
        assert.equal(doc.error, "unavailable");
        assert.match(doc.message, reason);
        assert.equal(doc.checks.length, 1);
      });
    }
  });
});

Deno.test("GET /readyz follows the database file", async (t) => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  const log = captureLog();
  const app = await testApp({ db }, { log });
  try {
    await t.step("moved away: 503 naming the problem, and no new empty file is created", async () => {
      await Deno.rename(db, `${dir}/moved.db`);
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 503);
      const doc = await body<{ message: string }>(response);
      assert.match(doc.message, /Database file is missing/);
      assert.ok(!doc.message.includes(dir), "the path is not shown");
      await assert.rejects(Deno.stat(db), Deno.errors.NotFound);
      assert.equal((await app.fetch("/readyz")).status, 503);
    });
    await t.step("moved back: 200 again", async () => {
      await Deno.rename(`${dir}/moved.db`, db);
      assert.equal((await app.fetch("/readyz")).status, 200);
    });
    await t.step("replaced by another file: 503 until the original returns", async () => {
      await Deno.rename(db, `${dir}/original.db`);
      await Deno.copyFile(`${dir}/original.db`, db);
      const response = await app.fetch("/readyz");
      assert.equal(response.status, 503);
      assert.match((await body<{ message: string }>(response)).message, /replaced by another file/);
      await Deno.rename(`${dir}/original.db`, db);
      assert.equal((await app.fetch("/readyz")).status, 200);
    });
    await t.step("each outage is logged once when it starts and once when it ends", () => {
      const events = log.lines.map((line) => line.msg).filter((msg) => String(msg).startsWith("database_"));
      assert.deepEqual(events, [
        "database_unavailable",
        "database_available",
        "database_unavailable",
        "database_available",
      ]);
    });
    await t.step({
      name: "unreadable (mode 000): 503 until its mode is restored",
      ignore: Deno.uid() === 0, // the superuser reads any file whatever its mode
      fn: async () => {
        await Deno.chmod(db, 0o000);
        try {
          const response = await app.fetch("/readyz");
          assert.equal(response.status, 503);
          assert.match((await body<{ message: string }>(response)).message, /not readable/);
        } finally {
          await Deno.chmod(db, 0o644);
        }
        assert.equal((await app.fetch("/readyz")).status, 200);
      },
    });
  } finally {
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stored public key replaced in the database is never published, and /readyz says so", async () => {
  await withTempDir(async (dir) => {
    const db = `${dir}/keys.db`;
    const first = await testApp({ db, auth: "open" });
    const active = first.keys.view().active!;
    await first.close();

    // Someone who can write the database but not seal a key swaps in their own public key.
    const attacker = await freshKey("ES256");
    const file = new DatabaseSync(db);
    file.prepare("UPDATE jwks_key_meta SET public_jwk = ? WHERE thumbprint = ?")
      .run(JSON.stringify({ ...attacker.publicJwk, kid: active.kid }), active.kid);
    file.close();

    const log = captureLog();
    const app = await testApp({ db, auth: "open" }, { log });
    try {
      const jwks = await body<{ keys: { kid: string }[] }>(await app.fetch("/.well-known/jwks.json"));
      assert.ok(!jwks.keys.some((key) => key.kid === active.kid), "the tampered key is not published");
      const forged = await signClaims(
        await importSigningKey(JSON.parse(new TextDecoder().decode(attacker.privateBytes)), "ES256"),
        { alg: "ES256", kid: active.kid },
        { sub: "admin", iss: app.config.issuer, exp: Math.floor(app.clock() / 1000) + 60 },
      );
      await assert.rejects(
        jwtVerify(forged, createLocalJWKSet(jwks as JSONWebKeySet), { currentDate: new Date(app.clock()) }),
      );
      const token = (await body<{ token: string }>(await app.fetch("/auth", { method: "POST" }))).token;
      assert.notEqual(decodeProtectedHeader(token).kid, active.kid, "tokens are signed by another key");
      const ready = await app.fetch("/readyz");
      assert.equal(ready.status, 503);
      assert.match((await body<{ message: string }>(ready)).message, /does not match its sealed private key/);
      assert.ok(
        log.lines.some((line) => line.level === "error" && line.msg === "key_rejected" && line.kid === active.kid),
      );
    } finally {
      await app.close();
    }
  });
});
