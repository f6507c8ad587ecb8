/**
 * The catalogue as a whole: stable ids, one-line descriptions and references, documented in
 * docs/probe.md; every case runs on a server that has the keys for it, and cases that cannot run
 * are counted as skipped. How each case is built is tested beside its module (cases_test.ts,
 * cases_signature_test.ts, cases_keys_test.ts).
 * @module
 */
import assert from "node:assert/strict";
import { CONTROL } from "../../lib/probe/cases.ts";
import { CASES } from "../../lib/probe/catalogue.ts";
import { catalogue, rs256Catalogue, setup } from "../support/probe_catalogue.ts";

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

Deno.test("every case of the catalogue runs on an RS256 server with an expired and a revoked key", async () => {
  const { built } = await rs256Catalogue();
  assert.deepEqual(built.skipped, []);
  assert.equal(built.cases.length, CASES.length);
  assert.ok(built.cases.every((c) => c.expect === "reject"));
});

Deno.test("cases that cannot run are skipped with the reason, never dropped", async () => {
  const { keys, now } = await setup("ES256");
  const built = await catalogue(keys, now, null);
  assert.ok(built.skipped.length > 0);
  assert.ok(built.skipped.every((s) => s.reason.length > 0));
  assert.equal(built.cases.length + built.skipped.length, CASES.length);
});
