import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import type { Alg } from "../../lib/core/key_material.ts";
import { atHash, ID_TOKEN_CLAIMS, issueIdToken } from "../../lib/oauth/id_tokens.ts";
import { publishedKeys, withApp } from "../support/helpers.ts";

async function leftHalf(hash: string, text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(text)));
  return digest.subarray(0, digest.byteLength / 2).toBase64({ alphabet: "base64url", omitPadding: true });
}

Deno.test("at_hash is the left half of the SHA-2 of the signing algorithm, base64url", async (t) => {
  await t.step("SHA-256 for the 256 algorithms, SHA-512 for EdDSA, others by their size", async () => {
    for (const alg of ["RS256", "PS256", "ES256"]) {
      assert.equal(atHash("token", alg), await leftHalf("SHA-256", "token"));
    }
    assert.equal(atHash("token", "EdDSA"), await leftHalf("SHA-512", "token"));
    assert.equal(atHash("token", "ES384"), await leftHalf("SHA-384", "token"));
    assert.throws(() => atHash("token", "none"), /No at_hash/);
  });
});

Deno.test("an ID token carries the OIDC Core §2 claims, signed by the active key", async (t) => {
  for (const alg of ["ES256", "EdDSA"] as Alg[]) {
    await t.step(alg, async () => {
      await withApp({ alg }, async (app) => {
        const now = app.keys.now();
        const view = app.keys.view();
        const issued = await issueIdToken({
          clientId: "client-1",
          subject: "alice",
          authTime: now - 30,
          nonce: "n-1",
          accessToken: "access.token.value",
          claims: { roles: ["admin"], nonce: "forged", iss: "https://evil.example", at_hash: "x" },
        }, { view, issuer: "https://issuer.example", ttl: 300, now });
        const { payload, protectedHeader } = await jwtVerify(
          issued.token,
          createLocalJWKSet(await publishedKeys(app)),
          {
            issuer: "https://issuer.example",
            audience: "client-1",
            typ: "JWT",
            currentDate: new Date(now * 1000),
          },
        );
        assert.equal(protectedHeader.kid, view.active!.kid);
        assert.equal(protectedHeader.alg, alg);
        assert.equal(payload.sub, "alice");
        assert.equal(payload.aud, "client-1");
        assert.equal(payload.iat, now);
        assert.equal(payload.exp, now + 300);
        assert.equal(payload.auth_time, now - 30);
        assert.equal(payload.nonce, "n-1", "the server's nonce, not the extra claim's");
        assert.equal(payload.at_hash, atHash("access.token.value", alg));
        assert.deepEqual(payload.roles, ["admin"]);
      });
    });
  }
  await t.step("without a nonce there is no nonce claim; reserved names are listed", async () => {
    await withApp({}, async (app) => {
      const issued = await issueIdToken({
        clientId: "c",
        subject: "s",
        authTime: 1,
        nonce: null,
        accessToken: "a",
      }, { view: app.keys.view(), issuer: "i", ttl: 60, now: app.keys.now() });
      const payload = JSON.parse(
        new TextDecoder().decode(Uint8Array.fromBase64(issued.token.split(".")[1]!, { alphabet: "base64url" })),
      );
      assert.equal("nonce" in payload, false);
      for (const claim of ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"]) {
        assert.ok(ID_TOKEN_CLAIMS.includes(claim), claim);
      }
    });
  });
});
