/**
 * The claim cases and the control of `cases.ts`: each claim case changes only the claim it
 * names, by an hour beyond any skew, from the time it is given; the control verifies with jose.
 * @module
 */
import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import { CLAIM_CASES, CONTROL } from "../../lib/probe/cases.ts";
import { decodeParts } from "../../lib/probe/jws.ts";
import { catalogue, ISSUER, rs256Catalogue, setup } from "../support/probe_catalogue.ts";

Deno.test("the control is a correct token that jose accepts with the server's JWKS", async () => {
  for (const alg of ["RS256", "ES256"] as const) {
    const { keys, now, jwks } = await setup(alg);
    const { control } = await catalogue(keys, now);
    const { payload, protectedHeader } = await jwtVerify(control.token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: "my-api",
      algorithms: [alg],
      requiredClaims: ["exp", "iat"],
      currentDate: new Date(now * 1000),
    });
    assert.deepEqual(protectedHeader, { alg, kid: keys.active.kid, typ: "JWT" });
    assert.equal(payload.exp, now + 300);
    assert.equal(control.expect, "accept");
  }
});

Deno.test("each claim case is built as it describes", async (t) => {
  const { now, parts } = await rs256Catalogue();
  await t.step("time claims are an hour beyond any skew", () => {
    assert.equal(parts("exp-expired").payload.exp, now - 3600);
    assert.equal(parts("nbf-future").payload.nbf, now + 3600);
    assert.equal(parts("iat-future").payload.iat, now + 3600);
    assert.ok(!("exp" in parts("exp-missing").payload));
  });
  await t.step("issuer and audience cases change only those claims", () => {
    assert.equal(parts("iss-wrong").payload.iss, "https://attacker.example");
    assert.equal(parts("iss-prefix").payload.iss, `${ISSUER}.attacker.example`);
    assert.ok(!("iss" in parts("iss-missing").payload));
    assert.ok(!("aud" in parts("aud-missing").payload));
    const idToken = parts("typ-id-token").payload;
    assert.equal(idToken.aud, "probe-client");
    assert.equal(idToken.nonce, "probe-nonce");
  });
});

Deno.test("without an audience the audience cases are skipped with the reason, and the control has no aud", async () => {
  const { keys, now } = await setup("ES256");
  const built = await catalogue(keys, now, null);
  const skipped = Object.fromEntries(built.skipped.map((s) => [s.id, s.reason]));
  for (const id of ["aud-wrong", "aud-missing", "typ-id-token"]) assert.match(skipped[id]!, /no audience given/);
  assert.ok(!("aud" in decodeParts(built.control.token).payload));
  assert.equal(CONTROL.id, "control");
});

Deno.test("claim cases take time from now, not from a clock", async () => {
  const { keys } = await setup("EdDSA");
  const then = 1_000_000_000;
  const built = await catalogue(keys, then);
  assert.equal(decodeParts(built.control.token).payload.iat, then);
  const expired = built.cases.find((c) => c.id === CLAIM_CASES[0]!.id)!;
  assert.equal(decodeParts(expired.token).payload.exp, then - 3600);
});
