/**
 * Reference (d) of `deno task bench`: what this runtime reaches for a signed token with nothing
 * of ours around it. A bare `Deno.serve` that reads the request body, signs one fixed JWT payload
 * per request with the signing backend our server chooses for the algorithm (`lib/signing/`:
 * OpenSSL through FFI, or WebCrypto), and answers {"token": "<JWT>"}, as reference (b) does on
 * Node. The gap from (d) to (b) is the runtime's; the gap from us to (d) is our request path.
 *
 *     deno run --allow-net --allow-read --allow-ffi --allow-sys bench/ref_deno_sign.ts [RS256|ES256|EdDSA] [PORT]
 *
 * Logs `{"msg":"listening","url":...,"backend":...}` once it listens (port 0, the default, is
 * ephemeral).
 * @module
 */
import { chooseSigningBackend } from "../lib/signing/choose.ts";

const GENERATE = {
  RS256: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256" },
  EdDSA: { name: "Ed25519" },
} as const;

if (import.meta.main) {
  const [alg = "RS256", port = "0"] = Deno.args;
  if (!(alg === "RS256" || alg === "ES256" || alg === "EdDSA")) {
    throw new Error("usage: ref_deno_sign.ts [RS256|ES256|EdDSA] [PORT]");
  }
  const pair = await crypto.subtle.generateKey(GENERATE[alg], true, ["sign", "verify"]) as CryptoKeyPair;
  const chosen = chooseSigningBackend();
  const signer = await chosen.backend.importKey({
    publicJwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
    pkcs8: new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
  }, alg);
  const backend = chosen.algs.includes(alg) ? `openssl (${chosen.inline ? "inline" : "threads"})` : "webcrypto";
  const encoder = new TextEncoder();
  const b64 = (value: unknown) =>
    encoder.encode(JSON.stringify(value)).toBase64({ alphabet: "base64url", omitPadding: true });
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg, kid: "reference", typ: "JWT" })}.${
    b64({ iss: "http://127.0.0.1:8080", sub: "anonymous", iat: now, exp: now + 900, jti: crypto.randomUUID() })
  }`;
  const data = encoder.encode(input);
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    onListen: ({ port }) => console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}`, backend })),
  }, async (request) => {
    await request.arrayBuffer();
    const signature = (await signer.sign(data)).toBase64({ alphabet: "base64url", omitPadding: true });
    return new Response(`{"token":"${input}.${signature}"}`, { headers: { "content-type": "application/json" } });
  });
}
