import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from "jose";
import type { AppError } from "../../lib/core/errors.ts";
import type { KeyView, SigningKey } from "../../lib/core/key_ring.ts";
import { jwksDocument } from "../../lib/core/key_ring.ts";
import { importSigningKey } from "../../lib/core/key_material.ts";
import { cryptoKeySigner } from "../../lib/core/signer.ts";
import { issueToken, signClaims } from "../../lib/core/tokens.ts";
import { MAX_SIGNING_INPUT } from "../../lib/core/signer.ts";
import { freshKey } from "../support/helpers.ts";

const NOW = 1_800_000_000;

async function signer(exp: number): Promise<{ key: SigningKey; verifyKey: CryptoKey }> {
  const material = await freshKey("ES256");
  const jwk = JSON.parse(new TextDecoder().decode(material.privateBytes));
  const { d: _d, ...pub } = jwk;
  return {
    key: {
      kid: material.kid,
      alg: "ES256",
      signer: cryptoKeySigner(await importSigningKey(jwk, "ES256"), "ES256"),
      exp,
      publishedAt: NOW - 100,
      activatesAt: NOW - 100,
      retiresAt: NOW + 100,
    },
    verifyKey: await importJWK(pub, "ES256") as CryptoKey,
  };
}

function view(active: SigningKey | null, expired: SigningKey | null): KeyView {
  return { jwks: jwksDocument([]), active, expired, next: null, until: Infinity, changedAt: 0, problems: [] };
}

/** A token for alice from https://issuer.example at NOW, signed by a key valid long after. */
async function aliceToken(options: Omit<Parameters<typeof issueToken>[2], "issuer" | "now">) {
  const { key, verifyKey } = await signer(NOW + 5000);
  const issued = await issueToken(view(key, null), "alice", { issuer: "https://issuer.example", now: NOW, ...options });
  return { key, verifyKey, issued };
}

Deno.test("issueToken() signs the contract's header and claims", async () => {
  const { key, verifyKey, issued } = await aliceToken({
    ttl: 900,
    audience: "api",
    jti: "fixed-id",
    claims: { scope: "read", sub: "ignored", exp: 1 },
  });
  assert.equal(issued.kid, key.kid);
  assert.equal(issued.exp, NOW + 900);
  assert.deepEqual(decodeProtectedHeader(issued.token), { alg: "ES256", kid: key.kid, typ: "JWT" });
  const { payload } = await jwtVerify(issued.token, verifyKey, { currentDate: new Date(NOW * 1000) });
  assert.deepEqual(payload, {
    scope: "read",
    aud: "api",
    iss: "https://issuer.example",
    sub: "alice",
    iat: NOW,
    exp: NOW + 900,
    jti: "fixed-id",
  });
});

Deno.test("each token carries the header of its own key and typ, however many have signed before", async () => {
  const keys = await Promise.all([signer(NOW + 5000), signer(NOW + 5000)]);
  // More kid × typ pairs than the encoded headers kept, twice over: every header is still its own.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 100; i++) {
      const { key, verifyKey } = keys[i % 2]!;
      const typ = i % 7 === 0 ? "JWT" : `t${i}+jwt`;
      const issued = await issueToken(view(key, null), "alice", { issuer: "i", ttl: 60, now: NOW, typ });
      assert.deepEqual(decodeProtectedHeader(issued.token), { alg: "ES256", kid: key.kid, typ });
      await jwtVerify(issued.token, verifyKey, { currentDate: new Date(NOW * 1000), typ });
    }
  }
});

Deno.test("a token never outlives its key", async () => {
  const { key } = await signer(NOW + 60);
  const issued = await issueToken(view(key, null), "alice", { issuer: "i", ttl: 900, now: NOW });
  assert.equal(decodeJwt(issued.token).exp, NOW + 60);
});

/** A `?expired=true` token issued at NOW while the newest expired key expired at `oldExp`. */
async function expiredToken(oldExp: number, options: { ttl: number; expiredBy?: number }) {
  const active = await signer(NOW + 5000);
  const old = await signer(oldExp);
  const issued = await issueToken(view(active.key, old.key), "alice", {
    issuer: "i",
    now: NOW,
    expired: true,
    ...options,
  });
  return { old, issued, claims: decodeJwt(issued.token) };
}

Deno.test("an expired token is signed by the expired key and is expired on arrival", async () => {
  const { old, issued, claims } = await expiredToken(NOW - 3600, { ttl: 900 });
  assert.equal(decodeProtectedHeader(issued.token).kid, old.key.kid);
  assert.equal(claims.exp, NOW - 3601);
  assert.equal(claims.iat, NOW - 3601 - 900);
  await jwtVerify(issued.token, old.verifyKey, { currentDate: new Date((NOW - 4000) * 1000) });
});

Deno.test("an expired token lies at least expiredBy seconds in the past, even when its key just expired", async () => {
  const { old: justExpired, issued, claims } = await expiredToken(NOW - 1, { ttl: 300, expiredBy: 120 });
  assert.equal(claims.exp, NOW - 120);
  assert.equal(claims.iat, NOW - 120 - 300);
  await assert.rejects(
    jwtVerify(issued.token, justExpired.verifyKey, { currentDate: new Date(NOW * 1000), clockTolerance: 60 }),
  );
});

Deno.test("typ, nbf and several audiences reach the token; extra claims never replace the standard ones", async () => {
  const { key, verifyKey, issued } = await aliceToken({
    ttl: 60,
    typ: "at+jwt",
    audience: ["api-a", "api-b"],
    notBefore: NOW + 10,
    claims: { iss: "forged", sub: "mallory", tenant: "t1" },
  });
  assert.equal(decodeProtectedHeader(issued.token).typ, "at+jwt");
  const { payload } = await jwtVerify(issued.token, verifyKey, {
    currentDate: new Date((NOW + 20) * 1000),
    typ: "at+jwt",
    audience: "api-b",
  });
  assert.deepEqual([payload.iss, payload.sub, payload.nbf, payload.tenant], [
    "https://issuer.example",
    "alice",
    NOW + 10,
    "t1",
  ]);
  const plain = await issueToken(view(key, null), "alice", { issuer: "i", ttl: 60, now: NOW, audience: [] });
  assert.equal(decodeProtectedHeader(plain.token).typ, "JWT");
  assert.equal("aud" in decodeJwt(plain.token), false, "an empty audience list is no aud claim");
  const one = await issueToken(view(key, null), "alice", { issuer: "i", ttl: 60, now: NOW, audience: ["only"] });
  assert.equal(decodeJwt(one.token).aud, "only", "one audience is a string");
});

Deno.test("without a key to sign with, issueToken() fails with no_signing_key", async () => {
  const { key } = await signer(NOW + 5000);
  await assert.rejects(
    issueToken(view(null, key), "a", { issuer: "i", ttl: 1, now: NOW }),
    (e: AppError) => e.code === "no_signing_key" && /No active signing key/.test(e.message),
  );
  await assert.rejects(
    issueToken(view(key, null), "a", { issuer: "i", ttl: 1, now: NOW, expired: true }),
    (e: AppError) => e.code === "no_signing_key" && /No expired key/.test(e.message),
  );
});

Deno.test("an RS256 token is byte for byte the token jose signs from the same claims", async () => {
  const material = await freshKey("RS256");
  const jwk = JSON.parse(new TextDecoder().decode(material.privateBytes));
  const cryptoKey = await importSigningKey(jwk, "RS256");
  const key: SigningKey = {
    kid: material.kid,
    alg: "RS256",
    signer: cryptoKeySigner(cryptoKey, "RS256"),
    exp: NOW + 5000,
    publishedAt: NOW - 100,
    activatesAt: NOW - 100,
    retiresAt: NOW + 100,
  };
  const claims = { scope: "read write", nested: { a: [1, "ü", null] }, sub: "overridden" };
  const issued = await issueToken(view(key, null), "alice", {
    issuer: "https://issuer.example",
    ttl: 900,
    now: NOW,
    audience: "api",
    jti: "fixed-id",
    claims,
  });
  const expected = await new SignJWT({ ...claims, aud: "api" })
    .setProtectedHeader({ alg: "RS256", kid: material.kid, typ: "JWT" })
    .setIssuer("https://issuer.example")
    .setSubject("alice")
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 900)
    .setJti("fixed-id")
    .sign(cryptoKey);
  assert.equal(issued.token, expected);
  assert.equal(
    await signClaims(cryptoKey, { alg: "RS256", kid: "k" }, { a: 1 }),
    await signClaims(key.signer, { alg: "RS256", kid: "k" }, { a: 1 }),
  );
});

Deno.test("the claim rules jose enforced still hold", async (t) => {
  const { key } = await signer(NOW + 5000);
  await t.step("iss, sub and jti must be strings", async () => {
    for (const claim of ["iss", "sub", "jti"]) {
      await assert.rejects(signClaims(key.signer, key, { [claim]: 1 }), TypeError);
    }
  });
  await t.step("iat, nbf and exp must be finite numbers", async () => {
    for (const claim of ["iat", "nbf", "exp"]) {
      await assert.rejects(signClaims(key.signer, key, { [claim]: Infinity }), TypeError);
    }
  });
  await t.step("the claims must be a plain object", async () => {
    await assert.rejects(signClaims(key.signer, key, [] as unknown as Record<string, unknown>), TypeError);
    await assert.rejects(
      issueToken(view(key, null), "a", { issuer: "i", ttl: 1, now: NOW, claims: new Map() as never }),
      TypeError,
    );
  });
  await t.step("the caller's claims are copied, not aliased", async () => {
    const claims = { scope: "read" };
    const issued = await issueToken(view(key, null), "a", { issuer: "i", ttl: 1, now: NOW, claims });
    assert.deepEqual(claims, { scope: "read" }, "the caller's object is untouched");
    assert.equal(decodeJwt(issued.token).scope, "read");
  });
  await t.step("a key signs only its own algorithm", async () => {
    await assert.rejects(
      signClaims(key.signer, { alg: "RS256", kid: "k" }, {}),
      (e: AppError) => e.code === "invalid_key",
    );
    await assert.rejects(
      signClaims(key.signer, { alg: "none", kid: "k" }, {}),
      (e: AppError) => e.code === "invalid_key",
    );
  });
  await t.step("a signing input over the cap is refused before any backend sees it", async () => {
    let calls = 0;
    const counting = { ...key.signer, sign: (data: Uint8Array) => (calls++, key.signer.sign(data)) };
    await assert.rejects(
      signClaims(counting, key, { pad: "x".repeat(MAX_SIGNING_INPUT) }),
      (e: AppError) => e.code === "payload_too_large",
    );
    assert.equal(calls, 0);
  });
});
