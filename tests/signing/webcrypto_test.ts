import assert from "node:assert/strict";
import { verify } from "node:crypto";
import type { AppError } from "../../lib/core/errors.ts";
import { webCryptoBackend } from "../../lib/signing/webcrypto.ts";
import { privateJwk, publicOf } from "./support.ts";

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
    const signer = await backend.importKey(jwk, "ES256");
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
    const signature = await (await backend.importKey(jwk, "EdDSA")).sign(new Uint8Array([1, 2, 3]));
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
  await t.step("a public key cannot be imported to sign", async () => {
    await assert.rejects(
      backend.importKey(publicOf(await privateJwk("ES256")), "ES256"),
      (error: AppError) => error.code === "invalid_key" && error.message === "The key has no private part",
    );
  });
});
