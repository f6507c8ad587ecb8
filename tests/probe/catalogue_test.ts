/**
 * The catalogue: stable ids, one-line descriptions and references; each forged token is built
 * the way its case says (checked by decoding it and by real crypto), the control verifies with
 * jose against the server's JWKS, and cases that cannot run say why. Covers cases.ts,
 * cases_signature.ts, cases_keys.ts and catalogue.ts.
 * @module
 */
import assert from "node:assert/strict";
import { createHmac, createPublicKey } from "node:crypto";
import { createLocalJWKSet, jwtVerify } from "jose";
import type { Alg } from "../../lib/core/key_material.ts";
import { createSealer } from "../../lib/core/seal.ts";
import { type AttackerKeys, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import { CLAIM_CASES, CONTROL } from "../../lib/probe/cases.ts";
import { buildCatalogue, CASES } from "../../lib/probe/catalogue.ts";
import { decodeParts, fromB64url } from "../../lib/probe/jws.ts";
import { type ProbeKeys, probeKeysFromRecords } from "../../lib/probe/keys.ts";
import { testApp } from "../support/helpers.ts";

const SECRET = "test master secret, not for production";
const BASE = "http://127.0.0.1:9";
const ISSUER = "http://127.0.0.1:8080";

async function setup(alg: Alg, options: { revoke?: boolean } = {}) {
  const app = await testApp({ alg });
  if (options.revoke) await app.keys.apply({ kind: "revoke", kid: app.keys.view().next!.kid });
  const now = app.keys.now();
  const keys = await probeKeysFromRecords(await app.store.listKeys(), createSealer(SECRET), now);
  const jwks = JSON.parse(new TextDecoder().decode(app.keys.view().jwks.body));
  await app.close();
  return { keys, now, jwks };
}

const attackers = new Map<Alg, Promise<AttackerKeys>>();
function attackerFor(alg: Alg, now: number): Promise<AttackerKeys> {
  if (!attackers.has(alg)) attackers.set(alg, makeAttackerKeys(alg, now));
  return attackers.get(alg)!;
}

async function catalogue(keys: ProbeKeys, now: number, audience: string | null = "my-api") {
  return await buildCatalogue({
    keys,
    attacker: await attackerFor(keys.active.alg, now),
    attackerBase: BASE,
    issuer: ISSUER,
    audience,
    now,
  });
}

Deno.test("the catalogue lists at least 25 cases with stable kebab-case ids, one-line descriptions and references", () => {
  assert.ok(CASES.length >= 25);
  const ids = CASES.map((spec) => spec.id);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  for (const spec of [...CASES, CONTROL]) {
    assert.match(spec.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, spec.id);
    assert.ok(spec.description.length > 0 && !spec.description.includes("\n"), spec.id);
    assert.match(spec.ref, /RFC \d+|CVE-\d{4}-\d+|CWE-\d+/, spec.id);
  }
  for (
    const id of [
      "exp-expired",
      "nbf-future",
      "iat-future",
      "exp-missing",
      "iss-wrong",
      "aud-wrong",
      "aud-missing",
      "alg-none",
      "hs256-public-key-pem",
      "hs384-public-key-pem",
      "hs512-public-key-pem",
      "hs256-public-key-der",
      "hs256-public-key-jwk-n",
      "signature-altered",
      "signature-removed",
      "unknown-key-known-kid",
      "expired-key",
      "revoked-key",
      "kid-unknown",
      "kid-path-traversal",
      "kid-sql-injection",
      "kid-url",
      "jwk-embedded",
      "jku-attacker-url",
      "x5u-attacker-url",
      "crit-unknown",
      "typ-id-token",
      "es256-zero-signature",
      "rs256-ps256-switch",
      "other-issuer",
      "duplicate-claims",
      "oversized-token",
    ]
  ) assert.ok(ids.includes(id), `the catalogue has ${id}`);
});

Deno.test("docs/probe.md lists every case id with its reference", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/probe.md", import.meta.url));
  for (const spec of CASES) {
    const row = doc.split("\n").find((line) => new RegExp(`^\\| \`${spec.id}\` +\\|`).test(line));
    assert.ok(row !== undefined, `docs/probe.md has a row for ${spec.id}`);
    assert.ok(row.includes(spec.ref), `the row of ${spec.id} cites ${spec.ref}`);
  }
});

Deno.test("the control is a correct token that jose accepts with the server's JWKS", async () => {
  for (const alg of ["RS256", "ES256"] as const) {
    const { keys, now, jwks } = await setup(alg);
    const { control } = await catalogue(keys, now);
    const { payload, protectedHeader } = await jwtVerify(control.token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: "my-api",
      algorithms: [alg],
      requiredClaims: ["exp", "iat"],
      currentDate: new Date(now * 1000),
    });
    assert.deepEqual(protectedHeader, { alg, kid: keys.active.kid, typ: "JWT" });
    assert.equal(payload.exp, now + 300);
    assert.equal(control.expect, "accept");
  }
});

Deno.test("each forged token is built as its case describes", async (t) => {
  const { keys, now } = await setup("RS256", { revoke: true });
  const built = await catalogue(keys, now);
  const token = (id: string) => {
    const found = built.cases.find((c) => c.id === id);
    assert.ok(found, `case ${id} was built`);
    return found.token;
  };
  const parts = (id: string) => decodeParts(token(id));

  await t.step("every case runs on an RS256 server with an expired and a revoked key", () => {
    assert.deepEqual(built.skipped, []);
    assert.equal(built.cases.length, CASES.length);
    assert.ok(built.cases.every((c) => c.expect === "reject"));
  });
  await t.step("time claims are an hour beyond any skew", () => {
    assert.equal(parts("exp-expired").payload.exp, now - 3600);
    assert.equal(parts("nbf-future").payload.nbf, now + 3600);
    assert.equal(parts("iat-future").payload.iat, now + 3600);
    assert.ok(!("exp" in parts("exp-missing").payload));
  });
  await t.step("issuer and audience cases change only those claims", () => {
    assert.equal(parts("iss-wrong").payload.iss, "https://attacker.example");
    assert.equal(parts("iss-prefix").payload.iss, `${ISSUER}.attacker.example`);
    assert.ok(!("iss" in parts("iss-missing").payload));
    assert.ok(!("aud" in parts("aud-missing").payload));
    const idToken = parts("typ-id-token").payload;
    assert.equal(idToken.aud, "probe-client");
    assert.equal(idToken.nonce, "probe-nonce");
  });
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
  await t.step("kid injection payloads and attacker URLs", () => {
    assert.equal(parts("kid-path-traversal").header.kid, "../../../../../../dev/null");
    assert.match(String(parts("kid-sql-injection").header.kid), /UNION SELECT/);
    assert.equal(parts("kid-url").header.kid, `${BASE}/kid-url/key.json`);
    assert.equal(parts("jku-attacker-url").header.jku, `${BASE}/jku-attacker-url/jwks.json`);
    assert.equal(parts("x5u-attacker-url").header.x5u, `${BASE}/x5u-attacker-url/cert.pem`);
    assert.equal(parts("other-issuer").payload.iss, `${BASE}/other-issuer`);
    assert.equal((parts("jwk-embedded").header.jwk as { kty: string }).kty, "RSA");
    assert.equal((parts("x5c-embedded").header.x5c as string[]).length, 1);
    assert.deepEqual(parts("crit-unknown").header.crit, ["urn:jwks-server:probe:unknown"]);
  });
  await t.step("the server's other keys sign their cases", () => {
    assert.equal(parts("expired-key").header.kid, keys.expired!.kid);
    assert.equal(parts("revoked-key").header.kid, keys.revoked!.kid);
    assert.equal(parts("unknown-key-known-kid").header.kid, keys.active.kid);
  });
  await t.step("duplicate claims repeat iss in the raw payload, the foreign one last", () => {
    const raw = new TextDecoder().decode(fromB64url(token("duplicate-claims").split(".")[1]!));
    assert.equal(raw.match(/"iss":/g)?.length, 2);
    assert.ok(raw.endsWith(`,"iss":"https://attacker.example"}`));
  });
  await t.step("the very large token is over 32 KiB", () => {
    assert.ok(token("oversized-token").length > 32 * 1024);
  });
});

Deno.test("cases that cannot run are skipped with the reason, never dropped", async (t) => {
  await t.step("no audience skips the audience cases", async () => {
    const { keys, now } = await setup("ES256");
    const built = await catalogue(keys, now, null);
    const skipped = Object.fromEntries(built.skipped.map((s) => [s.id, s.reason]));
    for (const id of ["aud-wrong", "aud-missing", "typ-id-token"]) assert.match(skipped[id]!, /no audience given/);
    assert.match(skipped["revoked-key"]!, /no revoked key/);
    assert.match(skipped["rs256-ps256-switch"]!, /needs an RSA key; the key that signs now is ES256/);
    assert.equal(built.cases.length + built.skipped.length, CASES.length);
    assert.ok(!("aud" in decodeParts(built.control.token).payload));
  });
  await t.step("an ES256 server is the target of the psychic signatures, without a note", async () => {
    const { keys, now } = await setup("ES256");
    const built = await catalogue(keys, now);
    const zero = built.cases.find((c) => c.id === "es256-zero-signature")!;
    assert.equal(zero.note, undefined);
    assert.equal(decodeParts(zero.token).header.kid, keys.active.kid);
  });
  await t.step("without the private JWK the algorithm switch is skipped", async () => {
    const { keys, now } = await setup("PS256");
    const { privateJwk: _private, ...active } = keys.active;
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

Deno.test("claim cases take time from now, not from a clock", async () => {
  const { keys } = await setup("EdDSA");
  const then = 1_000_000_000;
  const built = await catalogue(keys, then);
  assert.equal(decodeParts(built.control.token).payload.iat, then);
  const expired = built.cases.find((c) => c.id === CLAIM_CASES[0]!.id)!;
  assert.equal(decodeParts(expired.token).payload.exp, then - 3600);
});
