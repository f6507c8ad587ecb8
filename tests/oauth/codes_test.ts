import assert from "node:assert/strict";
import { CODE_TTL, codeHash, isS256Challenge, newCode, s256, verifierMatches } from "../../lib/oauth/codes.ts";

Deno.test("codes are 256 random bits, stored as hex SHA-256, and live at most 60 s", () => {
  const a = newCode();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, newCode());
  assert.match(codeHash(a), /^[0-9a-f]{64}$/);
  assert.notEqual(codeHash(a), a);
  assert.ok(CODE_TTL <= 60);
});

Deno.test("S256 is RFC 7636's: the appendix B example verifies, anything else does not", async (t) => {
  // RFC 7636 Appendix B.
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  await t.step("the example", () => {
    assert.equal(s256(verifier), challenge);
    assert.equal(isS256Challenge(challenge), true);
    assert.equal(verifierMatches(verifier, challenge), true);
  });
  await t.step("a different verifier, a plain challenge, malformed values", () => {
    assert.equal(verifierMatches(`${verifier.slice(0, -1)}B`, challenge), false);
    assert.equal(verifierMatches(verifier, verifier), false, "plain: the verifier as its own challenge");
    assert.equal(verifierMatches("short", s256("short")), false, "a verifier under 43 characters");
    assert.equal(verifierMatches("a".repeat(129), s256("a".repeat(129))), false, "over 128");
    assert.equal(verifierMatches(`${"a".repeat(42)}!`, s256(`${"a".repeat(42)}!`)), false, "not unreserved");
    assert.equal(isS256Challenge("x".repeat(44)), false);
    assert.equal(isS256Challenge("x".repeat(42) + "="), false);
  });
});
