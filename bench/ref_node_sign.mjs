// Reference (b) of `deno task bench`: a bare Node.js `http` server that signs one fixed JWT
// payload per request with `crypto.sign` and a KeyObject made once (OpenSSL underneath), and
// answers {"token": "<JWT>"}. No body parsing, no claims building, no storage.
//
//     node bench/ref_node_sign.mjs [RS256|ES256|EdDSA] [PORT]
import { createServer } from "node:http";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";

const [alg = "RS256", port = "0"] = process.argv.slice(2);
const pair = alg === "RS256"
  ? generateKeyPairSync("rsa", { modulusLength: 2048 })
  : alg === "ES256"
  ? generateKeyPairSync("ec", { namedCurve: "P-256" })
  : generateKeyPairSync("ed25519");
const key = alg === "ES256" ? { key: pair.privateKey, dsaEncoding: "ieee-p1363" } : pair.privateKey;
const digest = alg === "EdDSA" ? null : "sha256";
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const input = `${b64({ alg, kid: "reference", typ: "JWT" })}.${
  b64({ iss: "http://127.0.0.1:8080", sub: "anonymous", iat: now, exp: now + 900, jti: randomUUID() })
}`;
const data = Buffer.from(input);
const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    const signature = sign(digest, data, key).toString("base64url");
    response.writeHead(200, { "content-type": "application/json" });
    response.end(`{"token":"${input}.${signature}"}`);
  });
});
server.listen(Number(port), "127.0.0.1", () => {
  console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${server.address().port}` }));
});
