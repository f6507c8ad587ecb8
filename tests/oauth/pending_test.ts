import assert from "node:assert/strict";
import type { PendingAuthorization } from "../../lib/oauth/authorize.ts";
import { formKey, formSeal, isCookieValue, newCookieValue, PENDING_TTL } from "../../lib/oauth/pending.ts";

const REQUEST: PendingAuthorization = {
  clientId: "c1",
  redirectUri: "https://app.example/cb",
  scope: ["openid"],
  state: "s",
  nonce: null,
  codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
};

Deno.test("a sealed request opens only unchanged, under the same key, before it expires", async (t) => {
  const seal = formSeal(formKey("secret one"));
  const sealed = seal.seal(REQUEST, 1000);
  await t.step("round trip", () => assert.deepEqual(seal.open(sealed, 1000 + PENDING_TTL - 1), REQUEST));
  await t.step("expired", () => assert.equal(seal.open(sealed, 1000 + PENDING_TTL), null));
  await t.step("another key (another master secret)", () => {
    assert.equal(formSeal(formKey("secret two")).open(sealed, 1000), null);
  });
  await t.step("the body changed: another redirect URI, same tag", () => {
    const [, tag] = sealed.split(".");
    const forged = new TextEncoder().encode(
      JSON.stringify({ ...REQUEST, redirectUri: "https://evil.example/", exp: 5000 }),
    ).toBase64({ alphabet: "base64url", omitPadding: true });
    assert.equal(seal.open(`${forged}.${tag}`, 1000), null);
  });
  await t.step("malformed", () => {
    for (const value of ["", "x", "x.y", `${sealed}x`, "a".repeat(9000)]) assert.equal(seal.open(value, 1000), null);
  });
});

Deno.test("the CSRF token binds the sealed request to the cookie", () => {
  const seal = formSeal(formKey("secret"));
  const sealed = seal.seal(REQUEST, 0);
  const cookie = newCookieValue();
  assert.equal(isCookieValue(cookie), true);
  const token = seal.csrfToken(cookie, sealed);
  assert.equal(seal.csrfMatches(cookie, sealed, token), true);
  assert.equal(seal.csrfMatches(newCookieValue(), sealed, token), false, "another cookie");
  assert.equal(seal.csrfMatches(cookie, seal.seal(REQUEST, 1), token), false, "another request");
  assert.equal(seal.csrfMatches(cookie, sealed, token.slice(1)), false, "a shorter token");
  assert.equal(seal.csrfMatches("short", sealed, seal.csrfToken("short", sealed)), false, "a cookie we did not make");
});
