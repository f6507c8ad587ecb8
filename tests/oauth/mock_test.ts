import assert from "node:assert/strict";
import { OAuthError } from "../../lib/oauth/errors.ts";
import { parseMockControls, RESERVED_CLAIMS } from "../../lib/oauth/mock.ts";

const NOW = 1_800_000_000;
const parse = (fields: Record<string, unknown>) => parseMockControls(fields, { maxTtl: 3600, now: NOW });

Deno.test("parseMockControls() reads every control, from JSON values or form text", () => {
  assert.deepEqual(parse({}), {});
  assert.deepEqual(
    parse({ aud: "a", scope: "x y", ttl: 60, nbf: NOW, iss: "https://i", claims: { tenant: "t" } }),
    { audience: ["a"], scope: ["x", "y"], ttl: 60, notBefore: NOW, issuer: "https://i", claims: { tenant: "t" } },
  );
  assert.deepEqual(parse({ aud: ["a", "b"], ttl: "60", nbf: String(NOW - 10), claims: '{"n":1}' }), {
    audience: ["a", "b"],
    ttl: 60,
    notBefore: NOW - 10,
    claims: { n: 1 },
  });
});

Deno.test("parseMockControls() bounds every input and keeps the standard claims to their own controls", () => {
  const refused: Record<string, unknown>[] = [
    { ttl: 0 },
    { ttl: 3601 },
    { ttl: 1.5 },
    { ttl: true },
    { nbf: NOW + 3601 },
    { nbf: NOW - 3601 },
    { iss: 42 },
    { iss: "has space" },
    { aud: [1] },
    { claims: "[]" },
    { claims: "{" },
    { claims: { "": 1 } },
    { claims: { ["x".repeat(65)]: 1 } },
    ...RESERVED_CLAIMS.map((name) => ({ claims: { [name]: "x" } })),
  ];
  for (const fields of refused) {
    assert.throws(() => parse(fields), OAuthError, JSON.stringify(fields).slice(0, 60));
  }
});

Deno.test("the claims are copied, not aliased", () => {
  const claims = { nested: { a: 1 } };
  const parsed = parse({ claims });
  claims.nested.a = 2;
  assert.deepEqual(parsed.claims, { nested: { a: 1 } });
});
