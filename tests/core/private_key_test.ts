import assert from "node:assert/strict";
import { createECDH, createPrivateKey, type JsonWebKeyInput } from "node:crypto";
import { hasCode } from "../../lib/core/errors.ts";
import { privateKeyParts } from "../../lib/core/private_key.ts";

type Alg = "RS256" | "ES256" | "EdDSA";
type Jwk = Record<string, string>;

/** How each algorithm's keys are generated, imported and used, and which members a sealed key holds. */
const ALGS = {
  RS256: {
    params: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    sign: { name: "RSASSA-PKCS1-v1_5" },
    public: ["kty", "n", "e"],
    private: ["d", "p", "q", "dp", "dq", "qi"],
  },
  ES256: {
    params: { name: "ECDSA", namedCurve: "P-256" },
    sign: { name: "ECDSA", hash: "SHA-256" },
    public: ["kty", "crv", "x", "y"],
    private: ["d"],
  },
  EdDSA: { params: { name: "Ed25519" }, sign: { name: "Ed25519" }, public: ["kty", "crv", "x"], private: ["d"] },
} as const;

const encoder = new TextEncoder();
const base64url = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });
const fromBase64url = (text: string) => Uint8Array.fromBase64(text, { alphabet: "base64url" });

function pick(jwk: Jwk, members: readonly string[]): Jwk {
  return Object.fromEntries(members.map((member) => [member, jwk[member]!]));
}

/** The members of `jwk` a sealed key holds, with kid, use and alg, as the sealer stores them. */
function sealedMembers(jwk: Jwk, alg: Alg): Jwk {
  const { kty, ...rest } = pick(jwk, [...ALGS[alg].public, ...ALGS[alg].private]);
  return { kty: kty!, kid: "k", use: "sig", alg, ...rest };
}

function sealed(jwk: Jwk, alg: Alg): Uint8Array {
  return encoder.encode(JSON.stringify(sealedMembers(jwk, alg)));
}

function nodePkcs8(jwk: Jwk): Uint8Array {
  const der = createPrivateKey({ key: jwk as JsonWebKeyInput["key"], format: "jwk" }).export({
    type: "pkcs8",
    format: "der",
  });
  return new Uint8Array(der);
}

async function generate(alg: Alg, modulusLength = 2048): Promise<Jwk> {
  const params = alg === "RS256"
    ? { ...ALGS.RS256.params, modulusLength, publicExponent: Uint8Array.of(1, 0, 1) }
    : ALGS[alg].params;
  const { privateKey } = await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
  return await crypto.subtle.exportKey("jwk", privateKey) as Jwk;
}

let rsaKeys: Promise<Jwk[]> | undefined;
/** RSA keys of 2048, 3072 and 4096 bits, generated once and in parallel (4096-bit ones are slow). */
function rsa(): Promise<Jwk[]> {
  rsaKeys ??= Promise.all(
    [2048, 2048, 2048, 2048, 3072, 3072, 3072, 4096, 4096].map((bits) => generate("RS256", bits)),
  );
  return rsaKeys;
}

/**
 * Reads `plaintext` and checks the result against the key `jwk`: the same PKCS#8 as node's, a
 * signature made with it verifies under the public JWK, which holds exactly the public members.
 */
async function assertReads(jwk: Jwk, alg: Alg, plaintext = sealed(jwk, alg)): Promise<Uint8Array> {
  const { publicJwk, pkcs8 } = privateKeyParts(plaintext);
  assert.deepEqual(pkcs8, nodePkcs8(jwk));
  assert.deepEqual({ ...publicJwk }, pick(jwk, ALGS[alg].public));
  const { params, sign } = ALGS[alg];
  const signer = await crypto.subtle.importKey("pkcs8", pkcs8, params, false, ["sign"]);
  const data = encoder.encode("header.payload");
  const signature = await crypto.subtle.sign(sign, signer, data);
  const verifier = await crypto.subtle.importKey("jwk", publicJwk as JsonWebKey, params, false, ["verify"]);
  assert.ok(await crypto.subtle.verify(sign, verifier, signature, data), `${alg} signature verifies`);
  return pkcs8;
}

/** The TLVs inside the DER content `bytes` (short or long form lengths). */
function derChildren(bytes: Uint8Array): { tag: number; body: Uint8Array }[] {
  const children = [];
  for (let at = 0; at < bytes.length;) {
    const tag = bytes[at++]!;
    let length = bytes[at++]!;
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[at++]!;
    }
    children.push({ tag, body: bytes.subarray(at, at + length) });
    at += length;
  }
  return children;
}

/** Asserts `plaintext` is refused as `invalid_key` with a message matching `pattern` and naming no secret. */
function assertRefused(plaintext: Uint8Array | string, pattern: RegExp, secrets: readonly string[] = []): void {
  const bytes = typeof plaintext === "string" ? encoder.encode(plaintext) : plaintext;
  assert.throws(() => privateKeyParts(bytes), (error) => {
    assert.ok(hasCode(error, "invalid_key"), `invalid_key, not ${error}`);
    assert.match(error.message, pattern);
    for (const secret of secrets) assert.ok(!error.message.includes(secret), "the message holds no private value");
    return true;
  });
}

Deno.test("privateKeyParts() reads RSA keys into node's PKCS#8, byte for byte", async (t) => {
  const keys = await rsa();
  await t.step("2048, 3072 and 4096 bits: same DER as node, signs, public members only", async () => {
    for (const jwk of keys) await assertReads(jwk, "RS256");
  });

  await t.step("INTEGERs are minimal: 0x00 first exactly when the high bit is set", () => {
    const seen = { prefixed: new Set<string>(), bare: new Set<string>() };
    const privateExponents = { prefixed: 0, bare: 0 };
    for (const jwk of keys) {
      const [info] = derChildren(privateKeyParts(sealed(jwk, "RS256")).pkcs8);
      const [, , octets] = derChildren(info!.body);
      const [rsaPrivateKey] = derChildren(octets!.body);
      const [version, ...integers] = derChildren(rsaPrivateKey!.body);
      assert.deepEqual(version, { tag: 0x02, body: Uint8Array.of(0) });
      assert.equal(integers.length, 8);
      for (const [i, { tag, body }] of integers.entries()) {
        const member = ["n", "e", "d", "p", "q", "dp", "dq", "qi"][i]!;
        const value = fromBase64url(jwk[member]!);
        assert.equal(tag, 0x02);
        assert.deepEqual(body, value[0]! >= 0x80 ? Uint8Array.of(0, ...value) : value, member);
        const kind = value[0]! >= 0x80 ? "prefixed" : "bare";
        seen[kind].add(member);
        if (["d", "dp", "dq", "qi"].includes(member)) privateExponents[kind]++;
      }
    }
    // n, p and q always have their top bit set, e = 65537 never; the private exponents vary.
    for (const member of ["n", "p", "q"]) assert.ok(!seen.bare.has(member), member);
    assert.ok(!seen.prefixed.has("e"));
    assert.ok(privateExponents.prefixed > 0 && privateExponents.bare > 0, "both kinds of private exponent occur");
  });

  await t.step("members sent with leading zero bytes are stripped to node's minimal INTEGERs", () => {
    for (const jwk of keys.slice(0, 4)) {
      const padded = { ...jwk };
      for (const member of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) {
        const zeros = member === "e" ? 3 : 2;
        padded[member] = base64url(Uint8Array.of(...new Uint8Array(zeros), ...fromBase64url(jwk[member]!)));
      }
      assert.deepEqual(privateKeyParts(sealed(padded, "RS256")).pkcs8, nodePkcs8(jwk));
    }
  });
});

Deno.test("privateKeyParts() reads EC P-256 keys into node's PKCS#8, byte for byte", async (t) => {
  await t.step("200 generated keys: same DER as node, signs, public members only", async () => {
    for (let i = 0; i < 200; i++) await assertReads(await generate("ES256"), "ES256");
  });

  await t.step("x, y and d with leading zero bytes keep their 32 bytes", async () => {
    const ecdh = createECDH("prime256v1");
    const wanted = { d: 1, x: 1, y: 1 };
    for (let tries = 0; Object.values(wanted).some((n) => n > 0); tries++) {
      assert.ok(tries < 20_000, "found keys with leading zeros");
      const d = crypto.getRandomValues(new Uint8Array(32));
      if (tries === 0) d[0] = 0;
      ecdh.setPrivateKey(d);
      const point = new Uint8Array(ecdh.getPublicKey());
      const jwk = {
        kty: "EC",
        crv: "P-256",
        x: base64url(point.subarray(1, 33)),
        y: base64url(point.subarray(33)),
        d: base64url(d),
      };
      const zeroIn = (["d", "x", "y"] as const).filter((member) => fromBase64url(jwk[member])[0] === 0);
      if (!zeroIn.some((member) => wanted[member] > 0)) continue;
      for (const member of zeroIn) wanted[member]--;
      await assertReads(jwk, "ES256");
    }
  });
});

Deno.test("privateKeyParts() reads Ed25519 keys into node's PKCS#8, byte for byte", async (t) => {
  await t.step("200 generated keys: same DER as node, signs, public members only", async () => {
    for (let i = 0; i < 200; i++) await assertReads(await generate("EdDSA"), "EdDSA");
  });

  await t.step("a seed with leading zero bytes keeps its 32 bytes", async () => {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    seed.fill(0, 0, 3);
    const pkcs8 = Uint8Array.of(...Uint8Array.fromHex("302e020100300506032b657004220420"), ...seed);
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", key) as Jwk;
    assert.deepEqual(await assertReads(jwk, "EdDSA"), pkcs8);
  });
});

Deno.test("privateKeyParts() takes members in any order, with extra members of every JSON type", async () => {
  const extras = [
    '"ext":true',
    '"key_ops":["sign","verify"]',
    '"x5c":[]',
    '"n2":null',
    '"meta":{"a":[1,{"b":"}\\""}]}',
    '"numbers":[0,-0,1.5,-2e10,3E+2,4e-3]',
    '"off":false',
    '"empty":{}',
    '"escapes":"\\u00e9\\n\\t\\/\\\\ \\"}]"',
    '"text":"é ✓ 𝄞"',
  ];
  const [jwk] = await rsa();
  for (
    const [alg, key] of [["RS256", jwk!], ["ES256", await generate("ES256")], [
      "EdDSA",
      await generate("EdDSA"),
    ]] as const
  ) {
    const members = Object.entries(sealedMembers(key, alg)).reverse();
    const spaced = members.map(([name, value]) => `\n\t ${JSON.stringify(name)} :\r\n${JSON.stringify(value)} `);
    // Every extra member, in between the key's own members (reversed) and after the last one.
    const parts = extras.flatMap((extra, i) => [...spaced.slice(i, i + 1), extra]).concat(spaced.slice(extras.length));
    await assertReads(key, alg, encoder.encode(` \n{ ${parts.join(" ,\n")} }\r\n `));
    // Escaped member names are names like any other.
    const escaped = JSON.stringify(sealedMembers(key, alg)).replace('"kty"', '"\\u006bty"');
    await assertReads(key, alg, encoder.encode(escaped));
  }
});

Deno.test("privateKeyParts() refuses what is not a well-formed supported private JWK", async (t) => {
  const ec = await generate("ES256");
  const json = JSON.stringify(sealedMembers(ec, "ES256"));
  const secrets = [ec.d!, ec.d!.slice(0, 8)];
  const withD = (d: string) => json.replace(`"d":"${ec.d}"`, `"d":${d}`);

  await t.step("not JSON, truncated, or with something after the object", () => {
    for (const text of ["", " ", "hello", "{", '{"kty"', '{"kty":}', '{"kty":"EC",}', '{"a":1 "b":2}', '{"a":tru}']) {
      assertRefused(text, /not valid JSON|not a JSON object/, secrets);
    }
    for (const end of [1, 10, json.length / 2, json.length - 1]) {
      assertRefused(json.slice(0, end), /not valid JSON/, secrets);
    }
    assertRefused(json + "x", /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', '"k\n"'), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', '"\\x"'), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', '"\\u12g4"'), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', "01"), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', "-"), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', "1."), /not valid JSON/, secrets);
    assertRefused(json.replace('"k"', "1e"), /not valid JSON/, secrets);
  });

  await t.step("a top level that is not an object", () => {
    for (const text of ["[1]", '"EC"', "null", "42", "true", `[${json}]`]) assertRefused(text, /not a JSON object/);
  });

  await t.step("d missing, not a string, escaped, not base64url, not canonical, or twice", () => {
    assertRefused(json.replace(`,"d":"${ec.d}"`, ""), /lacks its "d" member/);
    assertRefused(withD("12345"), /"d" member is not a string/);
    assertRefused(withD("null"), /"d" member is not a string/);
    assertRefused(withD(`["${ec.d}"]`), /"d" member is not a string/, secrets);
    assertRefused(withD('"ab\\u0041"'), /"d" member has a JSON escape/);
    assertRefused(withD(`"${ec.d!.slice(0, -1)}\\n"`), /"d" member has a JSON escape/, secrets);
    for (const bad of ["+", "/", "=", ".", " ", "é"]) {
      assertRefused(withD(`"${ec.d!.slice(0, 20)}${bad}${ec.d!.slice(21)}"`), /"d" member is not base64url/, secrets);
    }
    assertRefused(withD('""'), /"d" member is not base64url/);
    assertRefused(withD(`"${ec.d}AA"`), /"d" member is not base64url/, secrets); // 45 characters: 4n + 1
    assertRefused(withD(`"${ec.d!.slice(0, -1)}B"`), /"d" member is not canonical base64url/, secrets);
    assertRefused(json.replace("{", `{"d":"${ec.d}",`), /more than one "d" member/, secrets);
    assertRefused(json.replace("{", `{"\\u0064":"${ec.d}",`), /more than one "d" member/, secrets);
  });

  await t.step("unknown key types and curves, and EC members of the wrong size", () => {
    assertRefused(json.replace('"kty":"EC"', '"kty":"oct"'), /Unsupported key type "oct"/, secrets);
    assertRefused(json.replace('"kty":"EC"', '"kty":7'), /"kty" member is not a string/, secrets);
    assertRefused(json.replace('"kty":"EC",', ""), /lacks its "kty" member/, secrets);
    assertRefused(json.replace('"crv":"P-256",', ""), /lacks its "crv" member/, secrets);
    for (const crv of ["P-384", "secp256k1", "Ed25519"]) {
      assertRefused(
        json.replace('"P-256"', `"${crv}"`),
        new RegExp(`Unsupported curve "${crv}" for key type "EC"`),
        secrets,
      );
    }
    assertRefused(
      json.replace('"kty":"EC"', '"kty":"OKP"').replace('"P-256"', '"X25519"'),
      /Unsupported curve "X25519"/,
    );
    const short = base64url(fromBase64url(ec.d!).subarray(1));
    assertRefused(withD(`"${short}"`), /"d" member must be 32 bytes/, [...secrets, short]);
    assertRefused(withD(`"${ec.d}AAAA"`), /"d" member must be 32 bytes/, secrets);
    assertRefused(json.replace(`"x":"${ec.x}"`, '"x":"AAAA"'), /"x" member must be 32 bytes/, secrets);
  });

  await t.step("RSA keys missing a member, and multi-prime RSA keys", async () => {
    const [jwk] = await rsa();
    const rsaJson = JSON.stringify(sealedMembers(jwk!, "RS256"));
    const rsaSecrets = ALGS.RS256.private.map((member) => jwk![member]!.slice(0, 16));
    for (const member of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) {
      const without = JSON.stringify({ ...sealedMembers(jwk!, "RS256"), [member]: undefined });
      assertRefused(without, new RegExp(`lacks its "${member}" member`), rsaSecrets);
    }
    const oth = rsaJson.replace("}", `,"oth":[{"r":"${jwk!.p}","d":"${jwk!.dp}","t":"${jwk!.qi}"}]}`);
    assertRefused(oth, /Multi-prime RSA keys \("oth"\) are not supported/, rsaSecrets);
  });

  await t.step("over-size plaintexts, private members and nesting", () => {
    const padded = (size: number) => encoder.encode(json.replace("{", "{" + " ".repeat(size - json.length)));
    assert.equal(privateKeyParts(padded(16 * 1024)).publicJwk.x, ec.x, "16 KiB is accepted");
    assertRefused(padded(16 * 1024 + 1), /larger than 16384 bytes/, secrets);
    const rsaWith = (d: string) =>
      JSON.stringify({ kty: "RSA", n: "AQAB", e: "AQAB", d, p: "AQ", q: "AQ", dp: "AQ", dq: "AQ", qi: "AQ" });
    const long = "Q".repeat(1368); // 1026 bytes
    assertRefused(rsaWith(long), /"d" member is longer than 1024 bytes/, [long.slice(0, 16)]);
    assert.ok(
      privateKeyParts(encoder.encode(rsaWith("Q".repeat(1365) + "A"))).pkcs8.length > 1024,
      "1024 bytes is accepted",
    );
    assertRefused(json.replace("{", `{"deep":${"[".repeat(40)}${"]".repeat(40)},`), /nests too deeply/, secrets);
    assertRefused(json.replace("{", `{"deep":${'{"a":'.repeat(40)}1${"}".repeat(40)},`), /nests too deeply/, secrets);
    assert.ok(privateKeyParts(encoder.encode(json.replace("{", `{"deep":${"[".repeat(30)}${"]".repeat(30)},`))));
  });

  await t.step("a member name that is not UTF-8", () => {
    const bytes = encoder.encode(json.replace('"kid"', '"ki?"'));
    bytes[bytes.indexOf(0x3f)] = 0xff;
    assertRefused(bytes, /not UTF-8/, secrets);
  });
});

/** Runs `read` and returns every `Uint8Array` constructed meanwhile, through the global constructor. */
function allocationsDuring(read: () => void): Uint8Array[] {
  const made: Uint8Array[] = [];
  const original = globalThis.Uint8Array;
  globalThis.Uint8Array = new Proxy(original, {
    construct(target, args, newTarget) {
      const bytes = Reflect.construct(target, args, newTarget);
      made.push(bytes);
      return bytes;
    },
  });
  try {
    read();
  } finally {
    globalThis.Uint8Array = original;
  }
  return made;
}

function includes(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let at = 0; at + needle.length <= haystack.length; at++) {
    if (needle.every((byte, i) => haystack[at + i] === byte)) return true;
  }
  return false;
}

Deno.test("privateKeyParts() zeroes every buffer that held private bytes, but the one it returns", async (t) => {
  const [rsaKey] = await rsa();
  const cases = [
    { alg: "RS256", jwk: rsaKey! },
    { alg: "ES256", jwk: await generate("ES256") },
    { alg: "EdDSA", jwk: await generate("EdDSA") },
  ] as const;
  /** Asserts no buffer in `made` but `kept` holds the first 16 bytes of a private member, and that some were zeroed. */
  const assertWiped = (made: Uint8Array[], secrets: Uint8Array[], kept?: Uint8Array) => {
    for (const bytes of made.filter((bytes) => bytes !== kept)) {
      for (const secret of secrets) assert.ok(!includes(bytes, secret.subarray(0, 16)), "no copy of a private member");
    }
    const zeroed = made.filter((bytes) => bytes.length >= 16 && bytes.every((byte) => byte === 0));
    assert.ok(zeroed.length >= secrets.length, "the decoded private members were zeroed");
  };

  await t.step("on success", () => {
    for (const { alg, jwk } of cases) {
      let pkcs8: Uint8Array | undefined;
      const made = allocationsDuring(() => ({ pkcs8 } = privateKeyParts(sealed(jwk, alg))));
      assert.ok(pkcs8 !== undefined && made.includes(pkcs8));
      const secrets = ALGS[alg].private.map((member) => fromBase64url(jwk[member]!));
      for (const secret of secrets) {
        assert.ok(includes(pkcs8, secret.subarray(0, 16)), "the returned DER holds the key");
      }
      assertWiped(made, secrets, pkcs8);
    }
  });

  await t.step("when a later member is refused", () => {
    const { jwk } = cases[0];
    const bad = encoder.encode(JSON.stringify({ ...sealedMembers(jwk, "RS256"), qi: "AA!A" }));
    const made = allocationsDuring(() => assertRefused(bad, /"qi" member is not base64url/));
    assertWiped(made, ["d", "p", "q", "dp", "dq"].map((member) => fromBase64url(jwk[member]!)));
    const ec = cases[1].jwk;
    const short = fromBase64url(ec.d!).subarray(1);
    const shortD = encoder.encode(JSON.stringify({ ...sealedMembers(ec, "ES256"), d: base64url(short) }));
    assertWiped(allocationsDuring(() => assertRefused(shortD, /"d" member must be 32 bytes/)), [short]);
  });
});

Deno.test("privateKeyParts() returns a fresh buffer the caller owns and leaves the plaintext alone", async () => {
  for (const alg of ["ES256", "EdDSA"] as const) {
    const jwk = await generate(alg);
    const plaintext = sealed(jwk, alg);
    const copy = plaintext.slice();
    const first = privateKeyParts(plaintext).pkcs8;
    // The buffer is the whole allocation, so `fill(0)` wipes every copy of the key it holds.
    assert.equal(first.byteOffset, 0);
    assert.equal(first.byteLength, first.buffer.byteLength);
    first.fill(0);
    const second = privateKeyParts(plaintext).pkcs8;
    assert.notEqual(second.buffer, first.buffer);
    assert.deepEqual(second, nodePkcs8(jwk));
    assert.deepEqual(plaintext, copy);
  }
});
