import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { certificatePem, selfSignedCertificate } from "../../lib/probe/x509.ts";

const NOT_BEFORE = Date.UTC(2026, 10, 22) / 1000;
const KEYS: [string, RsaHashedKeyGenParams | EcKeyGenParams | Algorithm][] = [
  ["RSA", {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  }],
  ["ECDSA P-256", { name: "ECDSA", namedCurve: "P-256" }],
  ["Ed25519", { name: "Ed25519" }],
];

Deno.test("selfSignedCertificate() makes a certificate OpenSSL parses and verifies, valid for one day", async (t) => {
  for (const [label, params] of KEYS) {
    await t.step(label, async () => {
      const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
      const der = await selfSignedCertificate(pair.publicKey, pair.privateKey, {
        notBefore: NOT_BEFORE,
        commonName: "probe attacker",
      });
      const cert = new X509Certificate(der);
      assert.equal(cert.subject, "CN=probe attacker");
      assert.equal(cert.issuer, cert.subject, "its own issuer");
      assert.equal(Date.parse(cert.validFrom), NOT_BEFORE * 1000);
      assert.equal(Date.parse(cert.validTo), (NOT_BEFORE + 86_400) * 1000);
      assert.equal(cert.verify(cert.publicKey), true, "signed by its own key");
      const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
      assert.deepEqual(new Uint8Array(cert.publicKey.export({ type: "spki", format: "der" })), spki);
      assert.ok(!/^0*$/.test(cert.serialNumber));
    });
  }
});

Deno.test("a certificate signed by another key does not verify with its own", async () => {
  const subject = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const other = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const cert = new X509Certificate(
    await selfSignedCertificate(subject.publicKey, other.privateKey, { notBefore: NOT_BEFORE, commonName: "x" }),
  );
  assert.equal(cert.verify(cert.publicKey), false);
});

Deno.test("certificatePem() wraps the DER in base64 lines of 64 characters between the PEM markers", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const der = await selfSignedCertificate(pair.publicKey, pair.privateKey, {
    notBefore: NOT_BEFORE,
    commonName: "pem",
  });
  const pem = certificatePem(der);
  const lines = pem.trimEnd().split("\n");
  assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
  assert.equal(lines.at(-1), "-----END CERTIFICATE-----");
  assert.ok(lines.slice(1, -2).every((line) => line.length === 64));
  assert.equal(new X509Certificate(pem).subject, "CN=pem");
});
