import assert from "node:assert/strict";
import { verify } from "node:crypto";
import type { AppError } from "../../lib/core/errors.ts";
import { webCryptoBackend } from "../../lib/signing/webcrypto.ts";
import { keyParts, privateJwk, publicOf } from "./support.ts";

Deno.test("the WebCrypto backend is named for the runtime it runs on", () => {
  const backend = webCryptoBackend();
  assert.equal(backend.name, "webcrypto");
  assert.equal(backend.library, `Deno ${Deno.version.deno} WebCrypto`);
  assert.equal(backend.close, undefined, "nothing to release");
});

Deno.test("its signers sign what node:crypto verifies, and keep the key inside", async (t) => {
  const backend = webCryptoBackend();
  await t.step("ES256 (raw r ‖ s, as JWS wants)", async () => {
    const jwk = await privateJwk("ES256");
    const signer = await backend.importKey(keyParts(jwk), "ES256");
    assert.equal(signer.backend, "webcrypto");
    const data = new TextEncoder().encode("header.payload");
    const signature = await signer.sign(data);
    assert.equal(signature.length, 64);
    const key = {
      key: publicOf(jwk) as Record<string, string>,
      format: "jwk" as const,
      dsaEncoding: "ieee-p1363" as const,
    };
    assert.equal(verify("sha256", data, key, signature), true);
    assert.equal(verify("sha256", new TextEncoder().encode("header.other"), key, signature), false);
    assert.equal(JSON.stringify(signer).includes(String(jwk.d)), false, "no private member is reachable");
  });
  await t.step("EdDSA", async () => {
    const jwk = await privateJwk("EdDSA");
    const signature = await (await backend.importKey(keyParts(jwk), "EdDSA")).sign(new Uint8Array([1, 2, 3]));
    assert.equal(
      verify(
        null,
        new Uint8Array([1, 2, 3]),
        { key: publicOf(jwk) as Record<string, string>, format: "jwk" },
        signature,
      ),
      true,
    );
  });
  await t.step("DER that is not a whole key, or not one for the algorithm, is refused", async () => {
    const key = keyParts(await privateJwk("ES256"));
    for (
      const [pkcs8, alg] of [[key.pkcs8.slice(0, 40), "ES256"], [key.pkcs8, "EdDSA"], [key.pkcs8, "RS256"]] as const
    ) {
      await assert.rejects(
        backend.importKey({ publicJwk: key.publicJwk, pkcs8 }, alg),
        (error: AppError) =>
          error.code === "invalid_key" && error.message.startsWith(`The key does not import for ${alg}`),
      );
    }
  });
});
