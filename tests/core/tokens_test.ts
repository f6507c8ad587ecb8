import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { type AppError } from "../../lib/core/errors.ts";
import { importSigningKey } from "../../lib/core/key_material.ts";
import { jwksDocument, type KeyView, type SigningKey } from "../../lib/core/key_ring.ts";
import { issueToken } from "../../lib/core/tokens.ts";
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
      key: await importSigningKey(jwk, "ES256"),
      exp,
      publishedAt: NOW - 100,
      activatesAt: NOW - 100,
      retiresAt: NOW + 100,
    },
    verifyKey: await importJWK(pub, "ES256") as CryptoKey,
  };
}

function view(active: SigningKey | null, expired: SigningKey | null): KeyView {
  return { jwks: jwksDocument([]), active, expired, next: null, until: Infinity, changedAt: 0 };
}

Deno.test("issueToken() signs the contract's header and claims", async () => {
  const { key, verifyKey } = await signer(NOW + 5000);
  const issued = await issueToken(view(key, null), "alice", {
    issuer: "https://issuer.example",
    ttl: 900,
    now: NOW,
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

Deno.test("a token never outlives its key", async () => {
  const { key } = await signer(NOW + 60);
  const issued = await issueToken(view(key, null), "alice", { issuer: "i", ttl: 900, now: NOW });
  assert.equal(decodeJwt(issued.token).exp, NOW + 60);
});

Deno.test("an expired token is signed by the expired key and is expired on arrival", async () => {
  const active = await signer(NOW + 5000);
  const old = await signer(NOW - 3600);
  const issued = await issueToken(view(active.key, old.key), "alice", {
    issuer: "i",
    ttl: 900,
    now: NOW,
    expired: true,
  });
  assert.equal(decodeProtectedHeader(issued.token).kid, old.key.kid);
  const claims = decodeJwt(issued.token);
  assert.equal(claims.exp, NOW - 3601);
  assert.equal(claims.iat, NOW - 3601 - 900);
  await jwtVerify(issued.token, old.verifyKey, { currentDate: new Date((NOW - 4000) * 1000) });
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
