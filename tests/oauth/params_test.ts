import assert from "node:assert/strict";
import { OAuthError } from "../../lib/oauth/errors.ts";
import { parseForm, parseScope, readForm, requestedAudiences } from "../../lib/oauth/params.ts";

const code = (oauthCode: string) => (error: unknown) => error instanceof OAuthError && error.oauthCode === oauthCode;

Deno.test("parseForm() treats empty values as absent and refuses a repeated parameter", () => {
  const form = parseForm("grant_type=password&scope=&resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb");
  assert.equal(form.get("grant_type"), "password");
  assert.equal(form.get("scope"), undefined, "RFC 6749 §3.1: a parameter without a value is omitted");
  assert.deepEqual(form.all("resource"), ["https://a", "https://b"], "RFC 8707: resource may repeat");
  assert.throws(() => parseForm("scope=a&scope=b"), code("invalid_request"));
});

Deno.test("readForm() takes form bodies only, bounded", async () => {
  const post = (body: string | Uint8Array<ArrayBuffer>, type = "application/x-www-form-urlencoded") =>
    new Request("http://x/token", { method: "POST", headers: { "content-type": type }, body });
  assert.equal((await readForm(post("a=1"))).get("a"), "1");
  assert.equal((await readForm(post("a=1", "application/x-www-form-urlencoded; charset=UTF-8"))).get("a"), "1");
  await assert.rejects(readForm(post('{"a":1}', "application/json")), (e: OAuthError) => e.status === 415);
  await assert.rejects(readForm(post("a=" + "x".repeat(20_000))), (e: OAuthError) => e.status === 413);
  await assert.rejects(readForm(post(new Uint8Array([0x61, 0x3d, 0xff]))), code("invalid_request"), "not UTF-8");
});

Deno.test("parseScope() splits on spaces, deduplicates and checks the §3.3 syntax and bounds", () => {
  assert.equal(parseScope(undefined), undefined);
  assert.deepEqual(parseScope("read  write read"), ["read", "write"]);
  for (const bad of ['a"b', "a\\b", "x".repeat(129), Array.from({ length: 33 }, (_, i) => `s${i}`).join(" ")]) {
    assert.throws(() => parseScope(bad), code("invalid_scope"), bad.slice(0, 20));
  }
});

Deno.test("requestedAudiences() joins resource and audience; a resource is an absolute URI without fragment", () => {
  assert.deepEqual(
    requestedAudiences(parseForm("resource=https%3A%2F%2Fapi&audience=orders&audience=orders"), ["extra"]),
    ["https://api", "orders", "extra"],
  );
  for (const bad of ["resource=relative", "resource=https%3A%2F%2Fa%23frag", "audience=has%20space"]) {
    assert.throws(() => requestedAudiences(parseForm(bad)), code("invalid_target"), bad);
  }
  const many = Array.from({ length: 11 }, (_, i) => `audience=a${i}`).join("&");
  assert.throws(() => requestedAudiences(parseForm(many)), code("invalid_target"));
});
