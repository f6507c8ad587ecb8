import assert from "node:assert/strict";
import { importJWK, jwtVerify } from "jose";
import type { AppError } from "../../lib/core/errors.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import {
  checkSigningInput,
  cryptoKeySigner,
  importWebCryptoSigner,
  MAX_SIGNING_INPUT,
  routedBackend,
  type Signer,
  type SigningBackend,
} from "../../lib/core/signer.ts";
import { keyParts, privateJwk, publicOf } from "../signing/support.ts";

const encode = (value: unknown) =>
  new TextEncoder().encode(JSON.stringify(value)).toBase64({ alphabet: "base64url", omitPadding: true });

Deno.test("checkSigningInput() allows up to 1 MiB and refuses one byte more as payload_too_large", () => {
  checkSigningInput(new Uint8Array(MAX_SIGNING_INPUT));
  assert.throws(
    () => checkSigningInput(new Uint8Array(MAX_SIGNING_INPUT + 1)),
    (error: AppError) => error.code === "payload_too_large",
  );
});

Deno.test("importWebCryptoSigner() signs JWS signatures that jose verifies, for every algorithm", async (t) => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    await t.step(alg, async () => {
      const jwk = await privateJwk(alg);
      const signer = await importWebCryptoSigner(keyParts(jwk), alg);
      assert.equal(signer.backend, "webcrypto");
      assert.equal(signer.alg, alg);
      const input = `${encode({ alg, typ: "JWT" })}.${encode({ sub: "s" })}`;
      const signature = await signer.sign(new TextEncoder().encode(input));
      const token = `${input}.${signature.toBase64({ alphabet: "base64url", omitPadding: true })}`;
      const { payload } = await jwtVerify(token, await importJWK(publicOf(jwk), alg));
      assert.equal(payload.sub, "s");
      await assert.rejects(
        signer.sign(new Uint8Array(MAX_SIGNING_INPUT + 1)),
        (error: AppError) => error.code === "payload_too_large",
      );
    });
  }
});

Deno.test("cryptoKeySigner() refuses keys that cannot sign, and RSA under 2048 bits", async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  assert.throws(() => cryptoKeySigner(pair.publicKey, "ES256"), (error: AppError) => error.code === "invalid_key");
  const small = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ["sign", "verify"],
  );
  assert.throws(() => cryptoKeySigner(small.privateKey, "RS256"), /at least 2048 bits, this one has 1024/);
});

const NO_KEY = Object.freeze({ publicJwk: {}, pkcs8: new Uint8Array(0) });

Deno.test("routedBackend() sends its algorithms to the primary and falls back per key", async (t) => {
  const made: string[] = [];
  const backend = (name: string, refuse: Alg[] = []): SigningBackend => ({
    name,
    library: `${name} lib`,
    importKey: (_key, alg) => {
      if (refuse.includes(alg)) return Promise.reject(new Error(`${name} refuses ${alg}`));
      made.push(`${name}:${alg}`);
      return Promise.resolve({ alg, backend: name, sign: () => Promise.resolve(new Uint8Array()) } as Signer);
    },
    close: () => void made.push(`${name}:closed`),
  });
  const fallbacks: string[] = [];
  const routed = routedBackend(backend("primary", ["ES256"]), backend("fallback"), {
    algs: ["RS256", "ES256"],
    onFallback: (alg, error) => fallbacks.push(`${alg}: ${(error as Error).message}`),
  });
  await t.step("it is named after the primary and lists its algorithms", () => {
    assert.equal(routed.name, "primary");
    assert.equal(routed.library, "primary lib");
    assert.deepEqual(routed.algs, ["RS256", "ES256"]);
  });
  await t.step("an algorithm of the primary signs there; another goes to the fallback, untold", async () => {
    assert.equal((await routed.importKey(NO_KEY, "RS256")).backend, "primary");
    assert.equal((await routed.importKey(NO_KEY, "EdDSA")).backend, "fallback");
    assert.deepEqual(fallbacks, []);
  });
  await t.step("a key the primary refuses goes to the fallback, and onFallback is told", async () => {
    assert.equal((await routed.importKey(NO_KEY, "ES256")).backend, "fallback");
    assert.deepEqual(fallbacks, ["ES256: primary refuses ES256"]);
  });
  await t.step("close releases both", () => {
    routed.close!();
    assert.deepEqual(made.slice(-2), ["primary:closed", "fallback:closed"]);
  });
});
