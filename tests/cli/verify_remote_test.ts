import assert from "node:assert/strict";
import { verifyRemote, type VerifyRemoteOptions } from "../../lib/cli/verify_remote.ts";
import { importSigningKey, type KeyMaterial } from "../../lib/core/key_material.ts";
import { signClaims } from "../../lib/core/tokens.ts";
import { freshKey, T0 } from "../support/helpers.ts";

const JWKS = new URL("https://issuer.example/.well-known/jwks.json");
const NOW = Math.floor(T0 / 1000);

function serving(keys: readonly KeyMaterial[], publicJwk = (key: KeyMaterial): object => key.publicJwk): typeof fetch {
  return () => Promise.resolve(Response.json({ keys: keys.map(publicJwk) }));
}

async function token(key: KeyMaterial, claims: Record<string, unknown> = {}, kid: string | null = key.kid) {
  const signer = await importSigningKey(JSON.parse(new TextDecoder().decode(key.privateBytes)), key.alg);
  const all: Record<string, unknown> = { iat: NOW, exp: NOW + 60, ...claims };
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
  const jwt = await signClaims(signer, { alg: key.alg, kid: kid ?? "none" }, all);
  if (kid !== null) return jwt;
  // A token without a kid: rebuild the header without it (the signature then no longer matters for
  // key selection, which happens before the signature is checked).
  const [, payload, signature] = jwt.split(".");
  const header = btoa(JSON.stringify({ alg: key.alg, typ: "JWT" })).replaceAll("=", "");
  return [header, payload, signature].join(".");
}

function options(fetchImpl: typeof fetch, extra: Partial<VerifyRemoteOptions> = {}): VerifyRemoteOptions {
  return { jwks: JWKS, now: T0, fetch: fetchImpl, ...extra };
}

Deno.test("verifyRemote accepts a good token and returns its header and claims", async () => {
  const key = await freshKey("EdDSA");
  const outcome = await verifyRemote(await token(key, { sub: "alice" }), options(serving([key])));
  assert.equal(outcome.valid, true);
  if (outcome.valid) {
    assert.equal(outcome.claims.sub, "alice");
    assert.equal(outcome.header.kid, key.kid);
  }
});

Deno.test("verifyRemote names each way a token fails", async (t) => {
  const es = await freshKey("ES256");
  const other = await freshKey("ES256");
  const cases: [string, () => Promise<[string, VerifyRemoteOptions]>, string, RegExp][] = [
    [
      "a token without a kid that matches no key",
      async () => [await token(es, {}, null), options(serving([]))],
      "unknown_kid",
      /No key in https:\/\/issuer.example\/.well-known\/jwks.json matches the token \(it has no kid\)/,
    ],
    [
      "two keys with the same kid",
      async () => [await token(es), options(serving([es, other], (key) => ({ ...key.publicJwk, kid: es.kid })))],
      "ambiguous_kid",
      /Several keys in .* match kid/,
    ],
    [
      "an algorithm the verifier does not allow",
      async () => [await token(es), options(serving([es]), { algorithms: ["RS256"] })],
      "alg_not_allowed",
      /Algorithm "ES256" is not allowed/,
    ],
    [
      "a claim of the wrong type",
      async () => [await token(es, { iat: "yesterday" }), options(serving([es]))],
      "invalid_claim",
      /Invalid "iat" claim/,
    ],
    [
      "a token used before its nbf, beyond the tolerance",
      async () => [await token(es, { nbf: NOW + 61 }), options(serving([es]))],
      "not_yet_valid",
      /Token is not valid before 2026-11-22T00:01:01Z \(now 2026-11-22T00:00:00Z\)/,
    ],
    [
      "an audience list without the expected one",
      async () => [await token(es, { aud: ["a", "b"] }), options(serving([es]), { audience: "c" })],
      "wrong_audience",
      /Wrong audience "a", "b", expected "c"/,
    ],
  ];
  for (const [name, make, reason, pattern] of cases) {
    await t.step(name, async () => {
      const [jwt, opts] = await make();
      const outcome = await verifyRemote(jwt, opts);
      assert.equal(outcome.valid, false);
      if (!outcome.valid) {
        assert.equal(outcome.reason, reason);
        assert.match(outcome.message, pattern);
      }
    });
  }
  await t.step("within the clock tolerance a token is still valid", async () => {
    const outcome = await verifyRemote(await token(es, { nbf: NOW + 30, exp: NOW - 30 }), options(serving([es])));
    assert.equal(outcome.valid, true);
  });
});

/** Runs `fn` with a real loopback server whose `/jwks` serves `keys`, `/moved` redirects there, `/empty` is 204. */
async function withKeySetServer(keys: readonly KeyMaterial[], fn: (base: string) => Promise<void>) {
  const listening = Promise.withResolvers<string>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => listening.resolve(`http://127.0.0.1:${port}`),
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/jwks") return Response.json({ keys: keys.map((key) => key.publicJwk) });
    if (path === "/moved") return new Response(null, { status: 302, headers: { location: "/jwks" } });
    if (path === "/empty") return new Response(null, { status: 204 });
    return new Response("no", { status: 404 });
  });
  try {
    await fn(await listening.promise);
  } finally {
    await server.shutdown();
  }
}

Deno.test("verifyRemote fetches the key set like real consumers: exactly 200, redirects not followed", async (t) => {
  const key = await freshKey("ES256");
  const jwt = await token(key);
  await withKeySetServer([key], async (base) => {
    await t.step("the key set itself verifies the token", async () => {
      const outcome = await verifyRemote(jwt, { jwks: new URL(`${base}/jwks`), now: T0 });
      assert.equal(outcome.valid, true);
    });
    await t.step("a redirect to that same key set is refused, not followed", async () => {
      const outcome = await verifyRemote(jwt, { jwks: new URL(`${base}/moved`), now: T0 });
      assert.deepEqual(outcome, {
        valid: false,
        reason: "jwks_status",
        message: `The key set at ${base}/moved answered 302, expected 200; redirects are not followed`,
      });
    });
    await t.step("a 204 is the wrong status, not a body that is not JSON", async () => {
      const outcome = await verifyRemote(jwt, { jwks: new URL(`${base}/empty`), now: T0 });
      assert.deepEqual(outcome, {
        valid: false,
        reason: "jwks_status",
        message: `The key set at ${base}/empty answered 204, expected 200`,
      });
    });
  });
});

Deno.test("verifyRemote requires exp, refuses an iat in the future, caps the key set and cuts echoed values", async (t) => {
  const es = await freshKey("ES256");
  const fails = async (jwt: string, opts: VerifyRemoteOptions, reason: string, pattern: RegExp) => {
    const outcome = await verifyRemote(jwt, opts);
    assert.equal(outcome.valid, false);
    if (!outcome.valid) {
      assert.equal(outcome.reason, reason);
      assert.match(outcome.message, pattern);
      assert.ok(outcome.message.length < 400, `a short message: ${outcome.message.length} characters`);
    }
  };
  await t.step("a token without exp is refused unless requireExp is false", async () => {
    const forever = await token(es, { exp: undefined });
    await fails(forever, options(serving([es])), "missing_claim", /no "exp" claim .*--no-require-exp accepts it/);
    assert.equal((await verifyRemote(forever, options(serving([es]), { requireExp: false }))).valid, true);
  });
  await t.step("an iat beyond the clock tolerance in the future is refused", async () => {
    await fails(await token(es, { iat: NOW + 61 }), options(serving([es])), "invalid_claim", /issued in the future/);
    assert.equal((await verifyRemote(await token(es, { iat: NOW + 59 }), options(serving([es])))).valid, true);
  });
  await t.step("a key set over the limit is refused without being read whole", async () => {
    let pulled = 0;
    const endless: typeof fetch = () =>
      Promise.resolve(
        new Response(
          new ReadableStream({
            pull(controller) {
              pulled++;
              controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
            },
          }),
        ),
      );
    await fails(
      await token(es),
      options(endless, { maxJwksBytes: 256 * 1024 }),
      "jwks_too_large",
      /larger than 262144 bytes/,
    );
    assert.ok(pulled <= 6, `stopped after ${pulled} chunks`);
    const declared: typeof fetch = () =>
      Promise.resolve(new Response("{}", { headers: { "content-length": String(100 * 1024 * 1024) } }));
    await fails(await token(es), options(declared), "jwks_too_large", /larger than 1048576 bytes/);
  });
  await t.step("a 200 KB kid is echoed cut short", async () => {
    await fails(
      await token(es, {}, "k".repeat(200_000)),
      options(serving([es])),
      "unknown_kid",
      /Unknown kid "k{79}… \(200002 characters\): no such key/,
    );
  });
});
