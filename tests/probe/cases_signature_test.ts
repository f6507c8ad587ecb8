/**
 * The signature cases of `cases_signature.ts`: alg none in its spellings, HMAC keyed with the
 * public key, tampered signatures, the psychic ECDSA signatures and the RSA algorithm switch,
 * each checked by decoding the token and, for HMAC, by recomputing it.
 * @module
 */
import assert from "node:assert/strict";
import { createHmac, createPublicKey } from "node:crypto";
import { decodeParts, fromB64url } from "../../lib/probe/jws.ts";
import { catalogue, rs256Catalogue, setup } from "../support/probe_catalogue.ts";

Deno.test("each signature case is built as it describes", async (t) => {
  const { keys, built, token, parts } = await rs256Catalogue();
  await t.step("alg none comes in several spellings, with an empty or a real signature", () => {
    for (const [id, alg] of [["alg-none", "none"], ["alg-none-capitalised", "None"], ["alg-none-upper", "NONE"]]) {
      assert.equal(parts(id!).header.alg, alg);
      assert.ok(token(id!).endsWith("."));
    }
    assert.equal(parts("alg-none-mixed").header.alg, "nOnE");
    assert.equal(fromB64url(token("alg-none-with-signature").split(".")[2]!).length, 256);
    assert.ok(!("alg" in parts("alg-missing").header));
  });
  await t.step("the HMAC confusion cases are keyed with the public key as OpenSSL exports it", () => {
    const pem = createPublicKey({ key: keys.active.publicJwk as Record<string, string>, format: "jwk" })
      .export({ type: "spki", format: "pem" }) as string;
    for (const bits of ["256", "384", "512"]) {
      const [h, p, s] = token(`hs${bits}-public-key-pem`).split(".");
      assert.equal(decodeParts(`${h}.${p}.`).header.alg, `HS${bits}`);
      assert.equal(createHmac(`sha${bits}`, pem).update(`${h}.${p}`).digest("base64url"), s);
    }
    const [h, p, s] = token("hs256-public-key-der").split(".");
    const der = createPublicKey(pem).export({ type: "spki", format: "der" });
    assert.equal(createHmac("sha256", der).update(`${h}.${p}`).digest("base64url"), s);
  });
  await t.step("signature cases tamper with a correct token", () => {
    assert.equal(token("signature-altered").split(".")[2]!.length, 342);
    assert.ok(token("signature-removed").endsWith("."));
    assert.equal(token("signature-segment-missing").split(".").length, 2);
    assert.equal(parts("claims-altered").payload.sub, "admin");
  });
  await t.step("the psychic signatures are 64 bytes of r = s = 0 and r = s = n, noting the RSA target", () => {
    const zero = built.cases.find((c) => c.id === "es256-zero-signature")!;
    assert.deepEqual(fromB64url(zero.token.split(".")[2]!), new Uint8Array(64));
    assert.equal(decodeParts(zero.token).header.kid, keys.active.kid);
    assert.match(zero.note ?? "", /no ES256 key is published/);
    const order = fromB64url(token("es256-order-signature").split(".")[2]!);
    assert.deepEqual(order.subarray(0, 32), order.subarray(32));
    assert.equal(order[0], 0xff);
  });
  await t.step("RS256 becomes PS256 with the same kid", () => {
    assert.deepEqual(parts("rs256-ps256-switch").header, { alg: "PS256", kid: keys.active.kid, typ: "JWT" });
  });
});

Deno.test("signature cases that cannot run are skipped with the reason, never dropped", async (t) => {
  await t.step("an ES256 server skips the algorithm switch, which needs an RSA key", async () => {
    const { keys, now } = await setup("ES256");
    const built = await catalogue(keys, now, null);
    const skipped = Object.fromEntries(built.skipped.map((s) => [s.id, s.reason]));
    assert.match(skipped["rs256-ps256-switch"]!, /needs an RSA key; the key that signs now is ES256/);
  });
  await t.step("an ES256 server is the target of the psychic signatures, without a note", async () => {
    const { keys, now } = await setup("ES256");
    const built = await catalogue(keys, now);
    const zero = built.cases.find((c) => c.id === "es256-zero-signature")!;
    assert.equal(zero.note, undefined);
    assert.equal(decodeParts(zero.token).header.kid, keys.active.kid);
  });
  await t.step("without the private key the algorithm switch is skipped", async () => {
    const { keys, now } = await setup("PS256");
    const { switched: _switched, ...active } = keys.active;
    const built = await catalogue({ ...keys, active }, now);
    assert.match(built.skipped.find((s) => s.id === "rs256-ps256-switch")!.reason, /needs the private key/);
  });
  await t.step("a PS256 server switches to RS256", async () => {
    const { keys, now } = await setup("PS256");
    const built = await catalogue(keys, now);
    const token = built.cases.find((c) => c.id === "rs256-ps256-switch")!.token;
    assert.equal(decodeParts(token).header.alg, "RS256");
  });
});
