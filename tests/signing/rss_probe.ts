/**
 * Run by `memory_test.ts` in its own process: signs many times and prints the resident set size
 * before and after, as JSON. Arguments: ALG WARMUP COUNT KEYS CALLS, where CALLS is `threads`
 * (OpenSSL, non-blocking, the default), `inline` (OpenSSL on the JS thread) or `node-crypto`.
 * @module
 */
import { nodeCryptoBackend } from "../../lib/signing/node_crypto.ts";
import { openSslBackend } from "../../lib/signing/openssl.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { keyParts, privateJwk } from "./support.ts";

const [alg = "ES256", warmup = "20000", count = "100000", keys = "0", calls = "threads"] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rss = () => (gc(), Deno.memoryUsage().rss);
const heap = () => (gc(), Deno.memoryUsage().heapUsed);
const backend = calls === "node-crypto"
  ? nodeCryptoBackend()
  : openSslBackend(undefined, { inline: calls === "inline" });
const jwk = await privateJwk(alg as Alg);
const signer = await backend.importKey(keyParts(jwk), alg as Alg);
const data = new TextEncoder().encode("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9");
async function sign(n: number): Promise<void> {
  let left = n;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (left-- > 0) await signer.sign(data);
  }));
}
await sign(Number(warmup));
for (let i = 0; i < 20; i++) await backend.importKey(keyParts(jwk), alg as Alg).then((s) => s.close?.());
const heapBefore = heap();
const before = rss();
await sign(Number(count));
for (let i = 0; i < Number(keys); i++) (await backend.importKey(keyParts(jwk), alg as Alg)).close?.();
const after = rss();
const heapAfter = heap();
signer.close?.();
console.log(
  JSON.stringify({ before, after, heapBefore, heapAfter, liveKeys: "liveKeys" in backend ? backend.liveKeys : 0 }),
);
