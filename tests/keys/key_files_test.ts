import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { AppError } from "../../lib/core/errors.ts";
import { keyMaterialFromText, parsePrivateKey, privateKeyText } from "../../lib/keys/key_files.ts";
import { freshKey } from "../support/helpers.ts";

const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === "invalid_key" && pattern.test(error.message);

Deno.test("privateKeyText() writes PKCS#8 PEM or a private JWK that read back as the same key", async (t) => {
  for (const alg of ["ES256", "EdDSA", "RS256"] as const) {
    await t.step(alg, async () => {
      const material = await freshKey(alg);
      const pem = privateKeyText(material, "pem");
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
      const jwkText = privateKeyText(material, "jwk");
      assert.ok(jwkText.endsWith("}\n"));
      const jwk = JSON.parse(jwkText);
      assert.equal(jwk.kid, material.kid);
      assert.equal(typeof jwk.d, "string");
      for (const text of [pem, jwkText]) {
        const again = await keyMaterialFromText(text, alg);
        assert.equal(again.kid, material.kid, "the same thumbprint");
        assert.deepEqual(again.publicJwk, material.publicJwk);
      }
    });
  }
});

Deno.test("parsePrivateKey() takes PKCS#8, PKCS#1 and SEC1 PEM, a JWK, or a JWK Set of one", async () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs1 = parsePrivateKey(rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string);
  const pkcs8 = parsePrivateKey(rsa.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  assert.equal(pkcs1.kty, "RSA");
  assert.equal(pkcs1.d, pkcs8.d);
  const sec1 = parsePrivateKey(
    "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      ec.privateKey.export({ type: "sec1", format: "pem" }),
  );
  assert.deepEqual([sec1.kty, sec1.crv], ["EC", "P-256"]);
  const jwk = ec.privateKey.export({ format: "jwk" });
  assert.deepEqual(parsePrivateKey(`  ${JSON.stringify(jwk)}\n`), jwk);
  assert.deepEqual(parsePrivateKey(JSON.stringify({ keys: [jwk] })), jwk);
  assert.equal(
    (await keyMaterialFromText(JSON.stringify(jwk))).kid,
    await calculateJwkThumbprint({ kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! }),
  );
  assert.equal((await keyMaterialFromText(JSON.stringify({ ...jwk, alg: "ES256" }))).alg, "ES256");
});

Deno.test("parsePrivateKey() refuses what is not one private key, in one line without key material", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cases: [string, RegExp][] = [
    ["   \n", /^The key file is empty$/],
    ["hello", /^The PEM file holds no private key \(found no PEM block\)$/],
    [rsa.publicKey.export({ type: "spki", format: "pem" }) as string, /\(found "PUBLIC KEY"\)$/],
    [
      rsa.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }) as string,
      /^The PEM key is encrypted; decrypt it first/,
    ],
    ["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", /^The PEM block "PRIVATE KEY" is not a valid/],
    ["{not json", /^The key file is neither PEM nor valid JSON$/],
    ["[1]", /^The JSON is not a JSON Web Key$/],
    ['{"keys":[1]}', /^The JSON is not a JSON Web Key$/],
    ['{"keys":[]}', /^The JWK Set holds 0 keys; expected exactly one$/],
    ['{"keys":[{},{}]}', /holds 2 keys/],
    ['{"d":"x"}', /^The JSON Web Key has no "kty" member$/],
    [
      '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
      /^The key has no private part$/,
    ],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parsePrivateKey(text), (error: unknown) => {
      assert.ok(invalid(pattern)(error), `${text.slice(0, 30)}: ${error}`);
      assert.ok(!/[A-Za-z0-9+/]{60}/.test((error as Error).message));
      return true;
    });
  }
});
