/**
 * The key cases of `cases_keys.ts`: kid injection, attacker URLs and embedded keys, the server's
 * other keys, duplicate claims and the oversized token, checked by decoding each token.
 * @module
 */
import assert from "node:assert/strict";
import { fromB64url } from "../../lib/probe/jws.ts";
import { BASE, catalogue, rs256Catalogue, setup } from "../support/probe_catalogue.ts";

Deno.test("each key case is built as it describes", async (t) => {
  const { keys, token, parts } = await rs256Catalogue();
  await t.step("kid injection payloads and attacker URLs", () => {
    assert.equal(parts("kid-path-traversal").header.kid, "../../../../../../dev/null");
    assert.match(String(parts("kid-sql-injection").header.kid), /UNION SELECT/);
    assert.equal(parts("kid-url").header.kid, `${BASE}/kid-url/key.json`);
    assert.equal(parts("jku-attacker-url").header.jku, `${BASE}/jku-attacker-url/jwks.json`);
    assert.equal(parts("x5u-attacker-url").header.x5u, `${BASE}/x5u-attacker-url/cert.pem`);
    assert.equal(parts("other-issuer").payload.iss, `${BASE}/other-issuer`);
    assert.equal((parts("jwk-embedded").header.jwk as { kty: string }).kty, "RSA");
    assert.equal((parts("x5c-embedded").header.x5c as string[]).length, 1);
    assert.deepEqual(parts("crit-unknown").header.crit, ["urn:jwks-server:probe:unknown"]);
  });
  await t.step("the server's other keys sign their cases", () => {
    assert.equal(parts("expired-key").header.kid, keys.expired!.kid);
    assert.equal(parts("revoked-key").header.kid, keys.revoked!.kid);
    assert.equal(parts("unknown-key-known-kid").header.kid, keys.active.kid);
  });
  await t.step("duplicate claims repeat iss in the raw payload, the foreign one last", () => {
    const raw = new TextDecoder().decode(fromB64url(token("duplicate-claims").split(".")[1]!));
    assert.equal(raw.match(/"iss":/g)?.length, 2);
    assert.ok(raw.endsWith(`,"iss":"https://attacker.example"}`));
  });
  await t.step("the very large token is over 32 KiB", () => {
    assert.ok(token("oversized-token").length > 32 * 1024);
  });
});

Deno.test("a server with no revoked key skips the revoked-key case with the reason", async () => {
  const { keys, now } = await setup("ES256");
  const built = await catalogue(keys, now, null);
  const skipped = Object.fromEntries(built.skipped.map((s) => [s.id, s.reason]));
  assert.match(skipped["revoked-key"]!, /no revoked key/);
});
