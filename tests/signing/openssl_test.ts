import assert from "node:assert/strict";
import type { AppError } from "../../lib/core/errors.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { MAX_SIGNING_INPUT, type Signer } from "../../lib/core/signer.ts";
import { openSslBackend } from "../../lib/signing/openssl.ts";
import { webCryptoBackend } from "../../lib/signing/webcrypto.ts";
import { skipUnlessInstalled } from "../support/helpers.ts";
import {
  equalBytes,
  hasNode,
  keyParts,
  nodeCryptoVerifies,
  nodeVerifies,
  privateJwk,
  randomBytes,
  randomInputs,
  webCryptoVerifies,
} from "./support.ts";

const webcrypto = webCryptoBackend();

/** Signs every input with `signer`, `width` at a time (the native calls run in parallel). */
async function signAll(signer: Signer, inputs: readonly Uint8Array[], width = 16): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array(inputs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < inputs.length) {
      const i = next++;
      out[i] = await signer.sign(inputs[i]!);
    }
  }));
  return out;
}

Deno.test("every RS256 signature from OpenSSL equals WebCrypto's, byte for byte, on blocking threads or inline", async (t) => {
  for (const inline of [false, true]) {
    const openssl = openSslBackend(undefined, { inline });
    assert.equal(openssl.inline, inline);
    const counts = inline
      ? [[2048, 500], [3072, 200], [4096, 200]] as const
      : [[2048, 2000], [3072, 1000], [4096, 1000]] as const;
    for (const [bits, count] of counts) {
      await t.step(`RSA ${bits}, ${count} random inputs, ${inline ? "inline" : "threads"}`, async () => {
        const jwk = await privateJwk("RS256", bits);
        const ours = await openssl.importKey(keyParts(jwk), "RS256");
        const theirs = await webcrypto.importKey(keyParts(jwk), "RS256");
        const inputs = randomInputs(count);
        const [a, b] = await Promise.all([signAll(ours, inputs), signAll(theirs, inputs)]);
        for (let i = 0; i < inputs.length; i++) {
          assert.ok(equalBytes(a[i]!, b[i]!), `input ${i} (${inputs[i]!.byteLength} bytes) signs the same`);
          assert.equal(a[i]!.byteLength, bits / 8);
        }
        ours.close?.();
      });
    }
    openssl.close();
    assert.equal(openssl.liveKeys, 0);
  }
});

/** What `openSslBackend()` chooses in a process started under `taskset -c CPUS`, or null without taskset. */
async function inlineUnder(cpus: string): Promise<boolean | null> {
  const code = `import { openSslBackend } from "${new URL("../../lib/signing/openssl.ts", import.meta.url).href}";
const b = openSslBackend(); console.log(JSON.stringify({ inline: b.inline, cores: navigator.hardwareConcurrency })); b.close();`;
  let output;
  try {
    output = await new Deno.Command("taskset", {
      args: [
        "-c",
        cpus,
        Deno.execPath(),
        "eval",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        code,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch {
    return null;
  }
  assert.ok(output.success, "the child ran");
  const { inline, cores } = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(cores, cpus.split(",").length, "hardwareConcurrency follows the affinity");
  return inline;
}

Deno.test({
  name: "OpenSSL signs inline by default when the process may use one core, on blocking threads with two",
  ignore: navigator.hardwareConcurrency < 2,
  fn: async () => {
    const one = await inlineUnder("0");
    if (skipUnlessInstalled(one === null ? "taskset is not installed" : null) !== null) return;
    assert.equal(one, true);
    assert.equal(await inlineUnder("0,1"), false);
  },
});

Deno.test("PS256, ES256 and EdDSA signatures from OpenSSL verify with WebCrypto and independent verifiers", async (t) => {
  const openssl = openSslBackend();
  const node = hasNode();
  for (const alg of ["PS256", "ES256", "EdDSA"] as const satisfies readonly Alg[]) {
    await t.step(alg, async () => {
      const jwk = await privateJwk(alg);
      const signer = await openssl.importKey(keyParts(jwk), alg);
      const inputs = randomInputs(alg === "PS256" ? 500 : 2000);
      const signatures = await signAll(signer, inputs);
      for (let i = 0; i < inputs.length; i++) {
        const [data, signature] = [inputs[i]!, signatures[i]!];
        assert.equal(signature.byteLength, alg === "PS256" ? 256 : 64, "JOSE signature size");
        assert.ok(await webCryptoVerifies(alg, jwk, data, signature), `WebCrypto verifies input ${i}`);
        assert.ok(nodeCryptoVerifies(alg, jwk, data, signature), `node:crypto verifies input ${i}`);
      }
      if (node) {
        const cases = inputs.map((data, i) => ({ alg, jwk, data, signature: signatures[i]! }));
        assert.ok((await nodeVerifies(cases)).every(Boolean), "Node.js verifies every signature");
        const tampered = cases.slice(0, 20).map((c) => ({ ...c, data: new Uint8Array([...c.data, 1]) }));
        assert.ok((await nodeVerifies(tampered)).every((ok) => !ok), "and rejects altered inputs");
      }
      // A wrong signature must not verify: the verifiers are not rubber stamps.
      const flipped = signatures[1]!.slice();
      flipped[5]! ^= 1;
      assert.equal(await webCryptoVerifies(alg, jwk, inputs[1]!, flipped), false);
      signer.close?.();
    });
  }
  openssl.close();
});

Deno.test("signing inputs from 0 bytes up to the 1 MiB cap sign; one byte more is refused", async (t) => {
  const openssl = openSslBackend(undefined, { inline: false });
  const inline = openSslBackend(undefined, { inline: true });
  for (const alg of ["RS256", "ES256", "EdDSA"] as const satisfies readonly Alg[]) {
    await t.step(alg, async () => {
      const jwk = await privateJwk(alg);
      const signers = [openssl, inline, webcrypto].map((backend) => backend.importKey(keyParts(jwk), alg));
      for (const signer of await Promise.all(signers)) {
        const sizes = [0, 1, 2, 63, 64, 65, 1023, 4096, 65_535, 65_536, MAX_SIGNING_INPUT - 1, MAX_SIGNING_INPUT];
        for (let i = 0; i < 20; i++) sizes.push(Math.floor(Math.random() * MAX_SIGNING_INPUT));
        for (const size of sizes) {
          const input = randomBytes(size);
          const signature = await signer.sign(input);
          assert.ok(await webCryptoVerifies(alg, jwk, input, signature), `${signer.backend}: ${size} bytes`);
        }
        await assert.rejects(
          signer.sign(new Uint8Array(MAX_SIGNING_INPUT + 1)),
          (e: AppError) => e.code === "payload_too_large",
          `${signer.backend} refuses ${MAX_SIGNING_INPUT + 1} bytes`,
        );
        signer.close?.();
      }
    });
  }
  openssl.close();
  inline.close();
});

Deno.test("the signer owns its input: changing the caller's buffer mid-signature changes nothing", async () => {
  const openssl = openSslBackend();
  const jwk = await privateJwk("RS256");
  const signer = await openssl.importKey(keyParts(jwk), "RS256");
  const data = crypto.getRandomValues(new Uint8Array(1000));
  const original = data.slice();
  const pending = signer.sign(data);
  data.fill(0);
  const expected = await (await webcrypto.importKey(keyParts(jwk), "RS256")).sign(original);
  assert.ok(equalBytes(await pending, expected));
  signer.close?.();
  openssl.close();
});

Deno.test("a closed signer refuses to sign, and frees its key after the signatures in flight", async () => {
  const openssl = openSslBackend();
  const jwk = await privateJwk("ES256");
  const signer = await openssl.importKey(keyParts(jwk), "ES256");
  const data = new TextEncoder().encode("in flight");
  const inFlight = Array.from({ length: 8 }, () => signer.sign(data));
  signer.close?.();
  assert.equal(openssl.liveKeys, 1, "the key is held while signatures run");
  for (const signature of await Promise.all(inFlight)) {
    assert.ok(await webCryptoVerifies("ES256", jwk, data, signature));
  }
  assert.equal(openssl.liveKeys, 0, "freed after the last one");
  await assert.rejects(signer.sign(data), (e: AppError) => e.code === "no_signing_key");
  signer.close?.();
  openssl.close();
});

Deno.test("OpenSSL refuses keys it should not hold", async (t) => {
  const openssl = openSslBackend();
  await t.step("a key of another type than the algorithm needs", async () => {
    await assert.rejects(
      openssl.importKey(keyParts(await privateJwk("ES256")), "RS256"),
      (e: AppError) => e.code === "invalid_key",
    );
    await assert.rejects(
      openssl.importKey(keyParts(await privateJwk("RS256")), "EdDSA"),
      (e: AppError) => e.code === "invalid_key",
    );
  });
  await t.step("the caller's DER is read, not zeroed or kept (a fallback backend imports it next)", async () => {
    const key = keyParts(await privateJwk("RS256", 1024));
    const before = key.pkcs8.slice();
    await assert.rejects(openssl.importKey(key, "RS256"), /2048–4096 bits/);
    assert.deepEqual(key.pkcs8, before);
    const accepted = keyParts(await privateJwk("ES256"));
    const copy = accepted.pkcs8.slice();
    const signer = await openssl.importKey(accepted, "ES256");
    assert.deepEqual(accepted.pkcs8, copy);
    accepted.pkcs8.fill(0);
    assert.equal(
      (await signer.sign(new Uint8Array([1]))).byteLength,
      64,
      "the key lives in libcrypto, not in that buffer",
    );
    signer.close?.();
  });
  await t.step("DER that is not a whole key", async () => {
    const key = keyParts(await privateJwk("ES256"));
    for (const pkcs8 of [new Uint8Array(0), key.pkcs8.slice(0, 40), new Uint8Array(138)]) {
      await assert.rejects(
        openssl.importKey({ publicJwk: key.publicJwk, pkcs8 }, "ES256"),
        (e: AppError) => e.code === "invalid_key" && e.message === "OpenSSL could not read the key",
      );
    }
  });
  await t.step("a key whose private part does not match its public part fails the self-test", async () => {
    const a = await privateJwk("ES256");
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const other = await crypto.subtle.exportKey("jwk", (pair as CryptoKeyPair).privateKey);
    await assert.rejects(
      openssl.importKey(keyParts({ ...a, d: other.d! }), "ES256"),
      (e: AppError) => e.code === "invalid_key",
    );
  });
  await t.step("RSA keys outside 2048–4096 bits", async () => {
    await assert.rejects(
      openssl.importKey(keyParts(await privateJwk("RS256", 1024)), "RS256"),
      /2048–4096 bits, not 1024/,
    );
  });
  assert.equal(openssl.liveKeys, 0, "nothing is left allocated by a refused key");
  openssl.close();
});
