/**
 * Reference (b) of `deno task bench`: the runtime's ceiling for issuing an RS256 token. A bare
 * `Deno.serve` that signs one fixed JWT payload per request with `crypto.subtle.sign` on a
 * `CryptoKey` imported once (RSA 2048, non-extractable, as our server holds its keys) and
 * answers `{"token": "<JWT>"}`. No body parsing, no claims building, no storage.
 *
 *     deno run --allow-net bench/ref_sign.ts [PORT]
 *
 * Logs `{"msg":"listening","url":...}` once it listens (port 0, the default, is ephemeral).
 * @module
 */
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

if (import.meta.main) {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const pair = await crypto.subtle.generateKey(
    { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const key = await crypto.subtle.importKey("jwk", jwk, algorithm, false, ["sign"]);
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(encoder.encode(JSON.stringify({ alg: "RS256", kid: "reference", typ: "JWT" })));
  const payload = base64url(encoder.encode(JSON.stringify({
    iss: "http://127.0.0.1:8080",
    sub: "anonymous",
    iat: now,
    exp: now + 900,
    jti: crypto.randomUUID(),
  })));
  const input = `${header}.${payload}`;
  const signingInput = encoder.encode(input);
  const [port = "0"] = Deno.args;
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(port),
    onListen: ({ port }) => console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${port}` })),
  }, async () => {
    const signature = new Uint8Array(await crypto.subtle.sign(algorithm, key, signingInput));
    return new Response(`{"token":"${input}.${base64url(signature)}"}`, {
      headers: { "content-type": "application/json" },
    });
  });
}
