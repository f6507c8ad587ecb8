import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from "jose";
import { issueAccessToken, looksLikeJwt, verifyAccessToken } from "../../lib/oauth/access_tokens.ts";
import { freshKey, withApp } from "../support/helpers.ts";

const request = { clientId: "svc", subject: "alice", scope: ["read", "write"], audience: ["https://api"] };

Deno.test("issueAccessToken() signs an RFC 9068 at+jwt with every claim the profile needs", async (t) => {
  await withApp({}, async (app) => {
    const options = { view: app.keys.view(), issuer: "https://issuer", ttl: 300, now: app.keys.now() };
    await t.step("typ at+jwt, the signing key's kid, iss, sub, aud, exp, iat, jti, client_id, scope", async () => {
      const issued = await issueAccessToken({ ...request, jti: "j-1" }, options);
      const header = decodeProtectedHeader(issued.token);
      assert.equal(header.typ, "at+jwt");
      assert.equal(header.kid, app.keys.view().active!.kid);
      const claims = decodeJwt(issued.token);
      assert.deepEqual(
        { iss: claims.iss, sub: claims.sub, aud: claims.aud, jti: claims.jti, client_id: claims.client_id },
        { iss: "https://issuer", sub: "alice", aud: "https://api", jti: "j-1", client_id: "svc" },
      );
      assert.equal(claims.scope, "read write");
      assert.equal(claims.iat, options.now);
      assert.equal(claims.exp, options.now + 300);
    });
    await t.step("no scope, no scope claim; a random jti when none is given", async () => {
      const [a, b] = await Promise.all([1, 2].map(() => issueAccessToken({ ...request, scope: [] }, options)));
      assert.equal(decodeJwt(a!.token).scope, undefined);
      assert.match(String(decodeJwt(a!.token).jti), /^[0-9a-f-]{36}$/);
      assert.notEqual(decodeJwt(a!.token).jti, decodeJwt(b!.token).jti);
    });
    await t.step("the mock controls change ttl, iss, nbf and add claims, but never client_id", async () => {
      const issued = await issueAccessToken(request, {
        ...options,
        mock: { ttl: 10, issuer: "https://mock", notBefore: options.now + 5, claims: { client_id: "forged", x: 1 } },
      });
      const claims = decodeJwt(issued.token);
      assert.equal(claims.exp, options.now + 10);
      assert.equal(claims.iss, "https://mock");
      assert.equal(claims.nbf, options.now + 5);
      assert.equal(claims.x, 1);
      assert.equal(claims.client_id, "svc");
    });
  });
});

Deno.test("verifyAccessToken() accepts only our active access tokens", async (t) => {
  await withApp({}, async (app) => {
    const now = app.keys.now();
    const view = app.keys.view();
    const store = app.store.oauth;
    const verify = (token: string, at = now) =>
      verifyAccessToken(token, { view, issuer: "https://issuer", now: at, store });
    const issued = await issueAccessToken(request, { view, issuer: "https://issuer", ttl: 300, now });
    await t.step("a token we issued verifies, with its claims", async () => {
      assert.equal((await verify(issued.token))?.sub, "alice");
    });
    await t.step("expired, another issuer, another typ or another signer is simply not active", async () => {
      assert.equal(await verify(issued.token, now + 301), null);
      const other = await issueAccessToken(request, { view, issuer: "https://elsewhere", ttl: 300, now });
      assert.equal(await verify(other.token), null);
      const stranger = await importJWK(
        JSON.parse(new TextDecoder().decode((await freshKey("ES256")).privateBytes)),
        "ES256",
      );
      const forged = await new SignJWT({ client_id: "svc", jti: "x", scope: "read" })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: view.active!.kid })
        .setIssuer("https://issuer").setSubject("alice").setIssuedAt(now).setExpirationTime(now + 300)
        .sign(stranger);
      assert.equal(await verify(forged), null);
    });
    await t.step("a token revoked in the store is not active", async () => {
      const jti = String(decodeJwt(issued.token).jti);
      await store.revokeAccessToken(jti, now + 300);
      assert.equal(await verify(issued.token), null);
    });
    await t.step("anything not shaped like a JWS, or over 16 KiB, is refused before any crypto", async () => {
      assert.equal(await verify("opaque-refresh-token"), null);
      assert.equal(await verify(`${"a".repeat(16 * 1024)}.b.c`), null);
    });
  });
});

Deno.test("looksLikeJwt() is true for three base64url parts, the last possibly empty", () => {
  assert.equal(looksLikeJwt("a.b.c"), true);
  assert.equal(looksLikeJwt("a.b."), true);
  for (const token of ["a.b", "a.b.c.d", "a+b.c.d", "", "abc", "a..c"]) assert.equal(looksLikeJwt(token), false, token);
});
