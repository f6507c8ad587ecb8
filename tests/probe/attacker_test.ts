/**
 * The attacker's side: fresh keys the server never had, a self-signed certificate (x509.ts)
 * that node:crypto parses and verifies, the URLs named after their cases, and the site that
 * serves them and records each fetch.
 * @module
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { attackerSite, attackerUrls, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import { certificatePem } from "../../lib/probe/x509.ts";

const NOW = 1_795_305_600;

Deno.test("makeAttackerKeys() makes two keys and a certificate of the first, for every algorithm", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    await t.step(alg, async () => {
      const keys = await makeAttackerKeys(alg, NOW);
      assert.notEqual(keys.attacker.kid, keys.rival.kid);
      assert.equal(keys.attacker.kid, await calculateJwkThumbprint(keys.attacker.publicJwk, "sha256"));
      assert.equal(keys.attacker.publicJwk.alg, alg);
      assert.ok(!("d" in keys.attacker.publicJwk), "only the public key is published");
      const cert = new X509Certificate(keys.certificate);
      assert.equal(cert.subject, "CN=jwks-server probe attacker");
      assert.equal(cert.issuer, cert.subject);
      assert.ok(cert.verify(cert.publicKey), "the certificate is self-signed");
      assert.deepEqual(cert.publicKey.export({ format: "jwk" }), {
        ...Object.fromEntries(
          Object.entries(keys.attacker.publicJwk).filter(([name]) => !["kid", "alg", "use"].includes(name)),
        ),
      });
      assert.equal(Date.parse(cert.validFrom) / 1000, NOW - 60);
      assert.equal(Date.parse(cert.validTo) / 1000, NOW - 60 + 86_400);
      assert.ok(new X509Certificate(certificatePem(keys.certificate)).verify(cert.publicKey));
    });
  }
});

Deno.test("the attacker site serves each URL and records which case it belongs to", async () => {
  const keys = await makeAttackerKeys("ES256", NOW);
  const base = "http://127.0.0.1:4444";
  const urls = attackerUrls(`${base}/`);
  const fetches: { caseId: string; path: string }[] = [];
  const site = attackerSite(keys, base, (fetched) => fetches.push(fetched));
  const get = (url: string) => site(new Request(url));

  assert.deepEqual(await get(urls.jku).json(), { keys: [keys.attacker.publicJwk] });
  assert.deepEqual(await get(urls.kid).json(), keys.attacker.publicJwk);
  assert.match(await get(urls.x5u).text(), /^-----BEGIN CERTIFICATE-----\n/);
  const discovery = await get(`${urls.rivalIssuer}/.well-known/openid-configuration`).json();
  assert.equal(discovery.issuer, urls.rivalIssuer);
  assert.deepEqual(await get(discovery.jwks_uri).json(), { keys: [keys.rival.publicJwk] });
  assert.equal(get(`${base}/nothing`).status, 404);
  assert.deepEqual(fetches.map((fetched) => fetched.caseId), [
    "jku-attacker-url",
    "kid-url",
    "x5u-attacker-url",
    "other-issuer",
    "other-issuer",
    "nothing",
  ]);
});
