import assert from "node:assert/strict";
import { decodeProtectedHeader } from "jose";
import { createRouter } from "../../lib/http/router.ts";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { createLogger } from "../../lib/ops/log.ts";
import { adminRoutes } from "../../lib/routes/admin.ts";
import { body, freshKey, from, testApp, withApp } from "../support/helpers.ts";

const TOKEN = "admin-token-for-tests-0123456789";
const env = { ADMIN_TOKEN: TOKEN };
/** Fast keys: these rules do not depend on the algorithm. */
const ES256 = { alg: "ES256" };
const bearer = { authorization: `Bearer ${TOKEN}` };

interface KeyInfoBody {
  kid: string;
  status: string;
  published: boolean;
}

async function jwksKids(app: Awaited<ReturnType<typeof testApp>>): Promise<string[]> {
  const doc = await body<{ keys: { kid: string }[] }>(await app.fetch("/.well-known/jwks.json"));
  return doc.keys.map((key) => key.kid);
}

Deno.test("without ADMIN_TOKEN the admin API does not exist: /admin/... is 404", async () => {
  await withApp(ES256, async (app) => {
    for (const [method, path] of [["GET", "/admin/keys"], ["POST", "/admin/keys/rotate"]] as const) {
      const response = await app.fetch(path, { method, headers: bearer });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal((await body(response)).error, "not_found");
    }
  });
});

Deno.test("the admin API answers 401 unless the bearer token matches exactly", async (t) => {
  await withApp(ES256, async (app) => {
    const cases: [string, Record<string, string>][] = [
      ["no Authorization header", {}],
      ["Basic credentials", { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }],
      ["a wrong token of the same length", { authorization: `Bearer ${TOKEN.replace(/.$/, "X")}` }],
      ["a prefix of the token", { authorization: `Bearer ${TOKEN.slice(0, 16)}` }],
      ["the token with a suffix", { authorization: `Bearer ${TOKEN}x` }],
      ["an empty bearer", { authorization: "Bearer " }],
    ];
    for (const [name, headers] of cases) {
      await t.step(name, async () => {
        const response = await app.fetch("/admin/keys", { headers });
        assert.equal(response.status, 401);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm="jwks-server admin"/);
        const text = await response.text();
        assert.equal(JSON.parse(text).error, "unauthorized");
        assert.ok(!text.includes(TOKEN.slice(0, 16)), "the token is never echoed");
      });
    }
    await t.step("a rejected mutation changes nothing", async () => {
      const before = (await app.fetch("/jwks")).headers.get("etag");
      assert.equal((await app.fetch("/admin/keys/rotate", { method: "POST" })).status, 401);
      assert.equal((await app.fetch("/jwks")).headers.get("etag"), before);
    });
    await t.step("the scheme name is case-insensitive", async () => {
      const response = await app.fetch("/admin/keys", { headers: { authorization: `bearer ${TOKEN}` } });
      assert.equal(response.status, 200);
    });
  }, { env });
});

Deno.test("GET /admin/keys lists every stored key with its status, and is never cached", async () => {
  await withApp(ES256, async (app) => {
    const response = await app.fetch("/admin/keys", { headers: bearer });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const { keys } = await body<{ keys: KeyInfoBody[] }>(response);
    assert.deepEqual(keys.map((key) => key.status).sort(), ["active", "expired", "next"]);
    assert.deepEqual(
      keys.filter((key) => key.published).map((key) => key.kid).sort(),
      (await jwksKids(app)).sort(),
      "published keys are exactly the JWKS",
    );
  }, { env });
});

Deno.test("POST /admin/keys/rotate publishes a new next key at once and reports the changes", async () => {
  await withApp(ES256, async (app) => {
    const before = await jwksKids(app);
    const etag = (await app.fetch("/jwks")).headers.get("etag");
    const response = await app.fetch("/admin/keys/rotate", { method: "POST", headers: bearer });
    assert.equal(response.status, 200);
    const report = await body<{ changes: { event: string; kid: string }[]; keys: KeyInfoBody[] }>(response);
    const created = report.changes.filter((change) => change.event === "key_created").map((change) => change.kid);
    assert.equal(created.length, 1);
    const after = await jwksKids(app);
    assert.ok(after.includes(created[0]!), "the new key is in this process's JWKS without a refresh");
    assert.ok(before.every((kid) => after.includes(kid)), "no published key disappears on a rotation");
    assert.notEqual((await app.fetch("/jwks")).headers.get("etag"), etag);
  }, { env });
});

Deno.test("POST /admin/keys/revoke removes the key at once and the next key signs immediately", async (t) => {
  await withApp(ES256, async (app) => {
    const signer = async () =>
      decodeProtectedHeader((await body<{ token: string }>(await app.fetch("/auth", { method: "POST" }))).token).kid;
    const active = await signer();
    await t.step("revoking the active key", async () => {
      const response = await app.fetch("/admin/keys/revoke", {
        method: "POST",
        headers: { ...bearer, "content-type": "application/json" },
        body: JSON.stringify({ kid: active }),
      });
      assert.equal(response.status, 200);
      const report = await body<{ changes: { event: string; kid: string }[]; keys: KeyInfoBody[] }>(response);
      assert.ok(report.changes.some((change) => change.event === "key_revoked" && change.kid === active));
      assert.equal(report.keys.find((key) => key.kid === active)?.status, "revoked");
      assert.ok(!(await jwksKids(app)).includes(active!), "gone from the JWKS");
      const next = await signer();
      assert.notEqual(next, active, "the successor signs without waiting for its lead time");
      assert.ok((await jwksKids(app)).includes(next!));
    });
    await t.step("an unknown kid is 404 and a missing kid is 400", async () => {
      const unknown = await app.fetch("/admin/keys/revoke", {
        method: "POST",
        headers: bearer,
        body: new URLSearchParams({ kid: "no-such-kid" }),
      });
      assert.equal(unknown.status, 404);
      assert.match((await body(unknown)).message as string, /No key with kid "no-such-kid"/);
      const missing = await app.fetch("/admin/keys/revoke", { method: "POST", headers: bearer });
      assert.equal(missing.status, 400);
      assert.equal((await body(missing)).field, "kid");
    });
  }, { env });
});

Deno.test("POST /admin/keys/import takes a PEM or JWK private key and publishes it as the next key", async (t) => {
  await withApp(ES256, async (app) => {
    const rsa = await freshKey("RS256");
    await t.step("a PKCS#8 PEM body", async () => {
      const response = await app.fetch("/admin/keys/import", {
        method: "POST",
        headers: { ...bearer, "content-type": "application/x-pem-file" },
        body: privateKeyText(rsa, "pem"),
      });
      assert.equal(response.status, 201, await response.clone().text());
      const report = await body<{ kid: string; keys: KeyInfoBody[] }>(response);
      assert.equal(report.kid, rsa.kid);
      assert.equal(report.keys.find((key) => key.kid === rsa.kid)?.status, "next");
      assert.ok((await jwksKids(app)).includes(rsa.kid));
    });
    await t.step("the same key again is 409", async () => {
      const response = await app.fetch("/admin/keys/import", {
        method: "POST",
        headers: bearer,
        body: privateKeyText(rsa, "jwk"),
      });
      assert.equal(response.status, 409);
    });
    await t.step("a JWK with ?alg=PS256 keeps the chosen algorithm", async () => {
      const key = await freshKey("RS256");
      const response = await app.fetch("/admin/keys/import?alg=PS256", {
        method: "POST",
        headers: { ...bearer, "content-type": "application/json" },
        body: privateKeyText(key, "jwk"),
      });
      assert.equal(response.status, 201);
      const jwks = await body<{ keys: { kid: string; alg: string }[] }>(await app.fetch("/jwks"));
      assert.equal(jwks.keys.find((jwk) => jwk.kid === key.kid)?.alg, "PS256");
    });
    await t.step("bad input is 400 and says why, never echoing key material", async () => {
      const rsa = JSON.parse(privateKeyText(await freshKey("RS256"), "jwk"));
      const other = JSON.parse(privateKeyText(await freshKey("RS256"), "jwk"));
      const ec = JSON.parse(privateKeyText(await freshKey("ES256"), "jwk"));
      const y = Uint8Array.fromBase64(ec.y, { alphabet: "base64url" });
      y[31]! ^= 1;
      const offCurve = y.toBase64({ alphabet: "base64url", omitPadding: true });
      const cases: [string, BodyInit, RegExp][] = [
        ["/admin/keys/import", "not a key", /no private key/],
        ["/admin/keys/import", JSON.stringify({ kty: "RSA", n: "AQAB", e: "AQAB" }), /no private part/],
        ["/admin/keys/import?alg=HS256", privateKeyText(await freshKey("ES256"), "pem"), /"alg" must be one of/],
        ["/admin/keys/import?alg=RS256", privateKeyText(await freshKey("ES256"), "pem"), /cannot sign RS256/],
        ["/admin/keys/import", new Uint8Array([0xff, 0xfe, 0x00]), /not valid UTF-8/],
        ["/admin/keys/import", JSON.stringify({ ...rsa, e: "Ag" }), /public exponent must be odd/],
        ["/admin/keys/import", JSON.stringify({ ...rsa, n: other.n, e: other.e }), /does not belong to its public key/],
        [
          "/admin/keys/import",
          JSON.stringify({ ...rsa, oth: [{ r: "AQAB", d: "AQAB", t: "AQAB" }] }),
          /may not carry "oth"/,
        ],
        ["/admin/keys/import", JSON.stringify({ ...ec, y: offCurve }), /not on the P-256 curve/],
      ];
      for (const [path, payload, pattern] of cases) {
        const response = await app.fetch(path, { method: "POST", headers: bearer, body: payload });
        assert.equal(response.status, 400, path);
        const text = await response.text();
        assert.match(JSON.parse(text).message, pattern);
        assert.ok(!text.includes('"d"'));
      }
    });
    await t.step("a body over 64 KiB is 413", async () => {
      const response = await app.fetch("/admin/keys/import", {
        method: "POST",
        headers: bearer,
        body: "x".repeat(65 * 1024),
      });
      assert.equal(response.status, 413);
    });
    await t.step("the same body without the token is 401: the token is checked before the body is read", async () => {
      for (const headers of [{}, { authorization: "Bearer wrong-token-0123456789" }]) {
        const response = await app.fetch("/admin/keys/import", {
          method: "POST",
          headers,
          body: "x".repeat(65 * 1024),
        });
        assert.equal(response.status, 401);
        assert.equal((await body(response)).error, "unauthorized");
      }
    });
  }, { env });
});

Deno.test("admin routes are not rate limited like /auth, and public endpoints ignore the admin token", async () => {
  await withApp({ ...ES256, "rate-limit": "2/s" }, async (app) => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await app.fetch("/admin/keys", { headers: bearer })).status, 200, `admin request ${i + 1}`);
    }
    const plain = await app.fetch("/jwks");
    const withToken = await app.fetch("/jwks", { headers: bearer });
    assert.equal(await withToken.text(), await plain.text());
    assert.equal(withToken.headers.get("etag"), plain.headers.get("etag"));
    const wrongMethod = await app.fetch("/admin/keys/rotate", { headers: bearer });
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.headers.get("allow") ?? "", /POST/);
  }, { env });
});

Deno.test("admin actions and rejected admin requests are logged, never with the token", async () => {
  const app = await testApp(ES256);
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), clock: app.clock });
  const router = createRouter(adminRoutes({ token: TOKEN, keys: app.keys, store: app.store, log }));
  const send = (path: string, init: RequestInit = {}) =>
    router(new Request(`http://127.0.0.1:8080${path}`, init), from("192.0.2.7"));
  try {
    assert.equal(
      (await send("/admin/keys/rotate", { method: "POST", headers: { authorization: "Bearer wrong-token-xxxxxxxx" } }))
        .status,
      401,
    );
    assert.equal((await send("/admin/keys/rotate", { method: "POST", headers: bearer })).status, 200);
    assert.equal((await send("/admin/keys", { headers: bearer })).status, 200);
    const events = lines.map((line) => JSON.parse(line));
    assert.deepEqual(events.map((event) => [event.msg, event.path, event.ip]), [
      ["admin_unauthorized", "/admin/keys/rotate", "192.0.2.7"],
      ["admin_action", "/admin/keys/rotate", "192.0.2.7"],
    ]);
    assert.ok(!lines.join("\n").includes(TOKEN) && !lines.join("\n").includes("wrong-token"));
  } finally {
    await app.close();
  }
});
