import assert from "node:assert/strict";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { createApp } from "../../lib/app.ts";
import type { AppError } from "../../lib/core/errors.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { routedBackend, type SigningBackend } from "../../lib/core/signer.ts";
import { chooseSigningBackend, OPENSSL_ALGS } from "../../lib/signing/choose.ts";
import { webCryptoBackend } from "../../lib/signing/webcrypto.ts";
import { argon2AtMinimumCost, freshKey, from, testClock, testConfig } from "../support/helpers.ts";
import { hasNode, keyParts, nodeVerifies, privateJwk, webCryptoVerifies } from "./support.ts";

const ROOT = new URL("../../", import.meta.url);
const data = new TextEncoder().encode("header.payload");

Deno.test("with libcrypto and the FFI permission, OpenSSL signs RS256, PS256 and ES256, node:crypto EdDSA", async () => {
  const chosen = chooseSigningBackend();
  assert.equal(chosen.backend.name, "openssl");
  assert.equal(chosen.fallbackReason, null);
  assert.deepEqual(chosen.algs, OPENSSL_ALGS);
  assert.deepEqual(chosen.routes, { RS256: "openssl", PS256: "openssl", ES256: "openssl", EdDSA: "node:crypto" });
  assert.match(chosen.backend.library, /^OpenSSL 3\./);
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const satisfies readonly Alg[]) {
    const jwk = await privateJwk(alg);
    const signer = await chosen.backend.importKey(keyParts(jwk), alg);
    assert.equal(signer.backend, chosen.routes[alg], alg);
    assert.ok(await webCryptoVerifies(alg, jwk, data, await signer.sign(data)));
    signer.close?.();
  }
  chosen.backend.close?.();
});

Deno.test("without a usable libcrypto the choice falls back to WebCrypto and says why", async () => {
  const chosen = chooseSigningBackend({ libcryptoPaths: ["/nonexistent/libcrypto.so.3"] });
  assert.equal(chosen.backend.name, "webcrypto");
  assert.deepEqual(chosen.routes, { RS256: "webcrypto", PS256: "webcrypto", ES256: "webcrypto", EdDSA: "node:crypto" });
  const ed = await chosen.backend.importKey(keyParts(await privateJwk("EdDSA")), "EdDSA");
  assert.equal(ed.backend, "node:crypto", "node:crypto needs no FFI");
  assert.match(
    chosen.fallbackReason ?? "",
    /No usable OpenSSL 3 libcrypto found \(tried \/nonexistent\/libcrypto\.so\.3\)/,
  );
  const jwk = await privateJwk("RS256");
  const signer = await chosen.backend.importKey(keyParts(jwk), "RS256");
  assert.ok(await webCryptoVerifies("RS256", jwk, data, await signer.sign(data)));
  const only = chooseSigningBackend({ prefer: "webcrypto" });
  assert.equal(only.backend.name, "webcrypto");
  assert.deepEqual(only.routes, { RS256: "webcrypto", PS256: "webcrypto", ES256: "webcrypto", EdDSA: "webcrypto" });
  const webEd = await only.backend.importKey(keyParts(await privateJwk("EdDSA")), "EdDSA");
  assert.equal(webEd.backend, "webcrypto");
});

Deno.test("without the FFI permission the choice falls back to WebCrypto, and node:crypto still signs EdDSA", async () => {
  const script = `
    import { chooseSigningBackend } from ${JSON.stringify(new URL("lib/signing/choose.ts", ROOT).href)};
    const chosen = chooseSigningBackend();
    console.log(JSON.stringify({ name: chosen.backend.name, reason: chosen.fallbackReason, ed: chosen.routes.EdDSA }));
  `;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, script);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", new URL("deno.json", ROOT).pathname, "--allow-read", `${dir}/probe.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.deepEqual(result, {
      name: "webcrypto",
      reason: "the FFI permission is not granted (--allow-ffi)",
      ed: "node:crypto",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a key OpenSSL refuses falls back to WebCrypto, and the fallback is reported", async (t) => {
  const told: { alg: Alg; message: string }[] = [];
  const chosen = chooseSigningBackend({
    onKeyFallback: (alg, error) => told.push({ alg, message: (error as AppError).message }),
  });
  await t.step("an RSA key over the 4096 bits OpenSSL holds signs through WebCrypto", async () => {
    const jwk = await privateJwk("RS256", 4160);
    const signer = await chosen.backend.importKey(keyParts(jwk), "RS256");
    assert.equal(signer.backend, "webcrypto");
    const signature = await signer.sign(data);
    assert.equal(signature.byteLength, 520);
    // The runtime signs with a 4160-bit key but verifies with none over 4096 bits: Node.js does.
    if (hasNode()) assert.deepEqual(await nodeVerifies([{ alg: "RS256", jwk, data, signature }]), [true]);
    assert.deepEqual(told, [{ alg: "RS256", message: "This backend holds RSA keys of 2048–4096 bits, not 4160" }]);
  });
  await t.step("a key neither backend accepts is refused, not signed with", async () => {
    await assert.rejects(
      chosen.backend.importKey(keyParts(await privateJwk("RS256", 1024)), "RS256"),
      /at least 2048 bits/,
    );
    assert.equal(told.length, 1, "no fallback is reported when the fallback refuses too");
  });
  chosen.backend.close?.();
});

Deno.test("routedBackend() sends each algorithm to its backend and falls back per key", async () => {
  const calls: string[] = [];
  const refusing: SigningBackend = {
    name: "refusing",
    library: "none",
    importKey: (_jwk, alg) => (calls.push(alg), Promise.reject(new Error("no"))),
  };
  const fallbacks: Alg[] = [];
  const backend = routedBackend(refusing, webCryptoBackend(), {
    algs: ["ES256"],
    onFallback: (alg) => fallbacks.push(alg),
  });
  assert.equal(backend.name, "refusing");
  const es = await backend.importKey(keyParts(await privateJwk("ES256")), "ES256");
  const ed = await backend.importKey(keyParts(await privateJwk("EdDSA")), "EdDSA");
  assert.deepEqual([es.backend, ed.backend], ["webcrypto", "webcrypto"]);
  assert.deepEqual(calls, ["ES256"], "EdDSA never went to the primary");
  assert.deepEqual(fallbacks, ["ES256"]);
});

Deno.test("an app built on the chosen backend issues verifiable tokens and shows the backend in /metrics", async (t) => {
  const chosen = chooseSigningBackend();
  for (const [alg, backend] of [["ES256", "openssl"], ["EdDSA", "node:crypto"]] as const) {
    await t.step(alg, async () => {
      const app = await createApp(testConfig({ alg }), {
        clock: testClock(),
        masterSecret: "test master secret, not for production",
        hasher: argon2AtMinimumCost,
        generate: freshKey,
        signing: chosen.backend,
      });
      try {
        assert.equal(app.keys.view().active?.signer.backend, backend);
        const response = await app.handle(new Request("http://127.0.0.1:8080/auth", { method: "POST" }), from());
        const { token } = await response.json();
        const jwk = app.keys.view().jwks.keys.find((key) => key.kid === decodeProtectedHeader(token).kid)!;
        const key = await importJWK(jwk, alg);
        await jwtVerify(token, key, { currentDate: new Date(testClock()()) });
        const metrics = await (await app.handle(new Request("http://127.0.0.1:8080/metrics"), from())).text();
        assert.match(metrics, /^jwks_signing_backend_info\{backend="openssl",library="OpenSSL 3\.[^"]+"\} 1$/m);
        assert.match(
          metrics,
          new RegExp(`^jwks_signing_key_info\\{kid="[^"]+",alg="${alg}",backend="${backend}"\\} 1$`, "m"),
        );
      } finally {
        await app.close();
      }
    });
  }
  chosen.backend.close?.();
});
