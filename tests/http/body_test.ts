import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import {
  basicCredentials,
  credentialsOf,
  hasBody,
  limitBodyTime,
  MAX_BODY_BYTES,
  optionalString,
  readBody,
  readFields,
  readText,
  utf8Text,
} from "../../lib/http/body.ts";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers });

const code = (expected: string) => (error: unknown) => error instanceof AppError && error.code === expected;

/** A body stream that sends `chunks` and, if asked, then breaks like a dropped connection. */
function streamed(chunks: Uint8Array[], breakOff = false): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (breakOff) controller.error(new Error("connection reset"));
      else controller.close();
    },
  });
}

Deno.test("readBody() reads up to the limit, announced or streamed, and no further", async (t) => {
  await t.step("exactly the limit is accepted, one byte more is 413", async () => {
    assert.equal(MAX_BODY_BYTES, 64 * 1024);
    assert.equal((await readBody(post("x".repeat(MAX_BODY_BYTES)))).byteLength, MAX_BODY_BYTES);
    await assert.rejects(readBody(post("x".repeat(MAX_BODY_BYTES + 1))), code("payload_too_large"));
    await assert.rejects(readBody(post("abcd"), 3), (error: AppError) => {
      assert.equal(error.message, "Request body must be at most 3 bytes");
      return error.code === "payload_too_large";
    });
  });
  await t.step("a Content-Length over the limit is refused before a byte is read", async () => {
    const request = new Request("http://x/", {
      method: "POST",
      body: "x".repeat(100),
      headers: { "content-length": "100" },
    });
    await assert.rejects(readBody(request, 50), code("payload_too_large"));
    assert.equal(request.bodyUsed, false, "the body was not read");
  });
  await t.step("chunks are joined in order; a chunked body is cut off at the limit", async () => {
    const parts = [new Uint8Array([1, 2]), new Uint8Array([3]), new Uint8Array([4, 5, 6])];
    assert.deepEqual([...await readBody(post(streamed(parts)))], [1, 2, 3, 4, 5, 6]);
    const big = [new Uint8Array(40), new Uint8Array(40)];
    await assert.rejects(readBody(post(streamed(big)), 50), code("payload_too_large"));
  });
  await t.step("no body is empty; a body that breaks off is the client's 400", async () => {
    assert.equal((await readBody(new Request("http://x/"))).byteLength, 0);
    await assert.rejects(readBody(post(streamed([new Uint8Array(3)], true))), code("bad_request"));
  });
});

Deno.test("readBody() stops waiting for a body once the listener's time for it is up: 408, connection closed", async (t) => {
  await t.step("a body that stalls fails with request_timeout when the signal aborts", async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
    const request = post(stalled, { "content-type": "application/json" });
    const time = new AbortController();
    limitBodyTime(request, time.signal, 10_000);
    const reading = readBody(request);
    time.abort();
    await assert.rejects(reading, (error: unknown) => {
      assert.ok(code("request_timeout")(error));
      assert.equal((error as AppError).message, "Request body did not arrive within 10 s");
      assert.equal((error as AppError).headers?.connection, "close");
      return true;
    });
  });
  await t.step("a signal that aborted before the first read fails at once", async () => {
    const request = post(streamed([new Uint8Array(3)]));
    limitBodyTime(request, AbortSignal.abort(), 500);
    await assert.rejects(readBody(request), code("request_timeout"));
  });
  await t.step("a body that arrives in time is read whole", async () => {
    const request = post("abc");
    limitBodyTime(request, new AbortController().signal, 500);
    assert.deepEqual(await readBody(request), new TextEncoder().encode("abc"));
  });
  await t.step("an oversized body is refused with Connection: close, so it is never read", async () => {
    await assert.rejects(readBody(post("x", { "content-length": String(MAX_BODY_BYTES + 1) })), (error: unknown) => {
      assert.equal((error as AppError).headers?.connection, "close");
      return code("payload_too_large")(error);
    });
  });
});

Deno.test("readBody() reads a body of announced length in one piece, bounded in time like any other", async (t) => {
  await t.step("the announced bytes are the body, whatever chunks they came in", async () => {
    const request = post(streamed([new Uint8Array([1, 2]), new Uint8Array([3])]), { "content-length": "3" });
    assert.deepEqual([...await readBody(request)], [1, 2, 3]);
    assert.equal(request.bodyUsed, true);
  });
  await t.step("fewer bytes than announced, or a body that breaks off, is the client's 400", async () => {
    await assert.rejects(readBody(post("abc", { "content-length": "10" })), (error: unknown) => {
      assert.equal((error as AppError).message, "Request body ended before it was complete");
      return code("bad_request")(error);
    });
    const broken = post(streamed([new Uint8Array(3)], true), { "content-length": "10" });
    await assert.rejects(readBody(broken), code("bad_request"));
  });
  await t.step("a body that stalls fails with request_timeout when the signal aborts", async () => {
    const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("{")) });
    const request = post(stalled, { "content-type": "application/json", "content-length": "40" });
    const time = new AbortController();
    limitBodyTime(request, time.signal, 2_000);
    const reading = readBody(request);
    time.abort();
    await assert.rejects(reading, (error: unknown) => {
      assert.equal((error as AppError).message, "Request body did not arrive within 2 s");
      assert.equal((error as AppError).headers?.connection, "close");
      return code("request_timeout")(error);
    });
  });
  await t.step("a body that breaks off after the deadline is still the timeout", async () => {
    let fail: (error: Error) => void = () => {};
    const request = post(new ReadableStream({ start: (c) => void (fail = (e) => c.error(e)) }), {
      "content-length": "5",
    });
    const time = new AbortController();
    limitBodyTime(request, time.signal, 1_000);
    const reading = readBody(request);
    time.abort();
    fail(new Error("connection closed"));
    await assert.rejects(reading, code("request_timeout"));
  });
  await t.step("a Content-Length that is not a whole number goes through the stream reader", async () => {
    assert.deepEqual([...await readBody(post(streamed([new Uint8Array([7])]), { "content-length": "1.5" }))], [7]);
  });
});

Deno.test("hasBody() goes by Content-Length when there is one, else by the body itself", () => {
  assert.equal(hasBody(post(null, { "content-length": "3" })), true);
  assert.equal(hasBody(post("abc", { "content-length": "0" })), false);
  assert.equal(hasBody(post(streamed([new Uint8Array(1)]))), true, "chunked: no Content-Length");
  assert.equal(hasBody(new Request("http://x/")), false);
});

Deno.test("utf8Text() and readText() refuse bytes that are not UTF-8", async () => {
  assert.equal(utf8Text(new TextEncoder().encode("héllo")), "héllo");
  assert.throws(() => utf8Text(new Uint8Array([0x68, 0xff])), code("bad_request"));
  assert.equal(await readText(post("ünïcode")), "ünïcode");
  await assert.rejects(readText(post(new Uint8Array([0xc3]))), /not valid UTF-8/);
  await assert.rejects(readText(post("12345"), 4), code("payload_too_large"));
});

Deno.test("readFields() reads JSON and form bodies into one flat record", async (t) => {
  await t.step("JSON by type, +json types, and JSON-looking bodies sent as form or untyped", async () => {
    const json = '{"username":"a","n":1}';
    for (const type of ["application/json", "application/json; charset=utf-8", "application/merge+json"]) {
      assert.deepEqual(await readFields(post(json, { "content-type": type })), { username: "a", n: 1 }, type);
    }
    for (const type of ["application/x-www-form-urlencoded", ""]) {
      const headers: Record<string, string> = type === "" ? {} : { "content-type": type };
      const request = type === ""
        ? new Request("http://x/", { method: "POST", body: new TextEncoder().encode(`  ${json}`) })
        : post(`  ${json}`, headers);
      assert.deepEqual(await readFields(request), { username: "a", n: 1 }, type || "untyped");
    }
  });
  await t.step("form bodies, typed or untyped", async () => {
    const form = "username=a%20b&password=p%26q";
    assert.deepEqual(await readFields(post(form, { "content-type": "application/x-www-form-urlencoded" })), {
      username: "a b",
      password: "p&q",
    });
    const untyped = new Request("http://x/", { method: "POST", body: new TextEncoder().encode(form) });
    assert.deepEqual(await readFields(untyped), { username: "a b", password: "p&q" });
  });
  await t.step("an empty body is no fields", async () => {
    assert.deepEqual(await readFields(post("", { "content-type": "application/json" })), {});
    assert.deepEqual(await readFields(new Request("http://x/", { method: "POST" })), {});
  });
  await t.step("bad JSON, a JSON value that is not an object, and other types are refused", async () => {
    const json = { "content-type": "application/json" };
    await assert.rejects(readFields(post("{nope", json)), (error: AppError) => {
      assert.equal(error.message, "Request body is not valid JSON");
      return error.code === "invalid_json";
    });
    for (const value of ["[1]", "null", "42", '"text"']) {
      await assert.rejects(readFields(post(value, json)), /must be a JSON object/, value);
    }
    await assert.rejects(
      readFields(post("<a/>", { "content-type": "application/xml" })),
      code("unsupported_media_type"),
    );
    await assert.rejects(readFields(post("a=b", { "content-type": "text/plain" })), code("unsupported_media_type"));
    await assert.rejects(
      readFields(post('{"username":"cross-site"}', { "content-type": "text/plain" })),
      code("unsupported_media_type"),
      "JSON sent as text/plain (what a cross-site page can post) is refused",
    );
    await assert.rejects(readFields(post(new Uint8Array([0x7b, 0xff, 0x7d]), json)), code("bad_request"));
  });
});

Deno.test("optionalString() takes a string, treats null as absent, and names a field of another type", () => {
  assert.equal(optionalString({ a: "x" }, "a"), "x");
  assert.equal(optionalString({ a: "" }, "a"), "");
  assert.equal(optionalString({ a: null }, "a"), undefined);
  assert.equal(optionalString({}, "a"), undefined);
  for (const value of [5, true, {}, ["x"]]) {
    assert.throws(() => optionalString({ a: value }, "a"), (error: AppError) => {
      assert.equal(error.code, "invalid_field");
      assert.equal(error.field, "a");
      assert.equal(error.message, 'Field "a" must be a string');
      return true;
    });
  }
});

Deno.test("basicCredentials() decodes Authorization: Basic as UTF-8 and ignores other schemes", () => {
  const basic = (text: string) =>
    new Request("http://x/", {
      headers: { authorization: `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}` },
    });
  assert.deepEqual(basicCredentials(basic("alice:s3cr:et")), { username: "alice", password: "s3cr:et" });
  assert.deepEqual(basicCredentials(basic("jürgen:pässword")), { username: "jürgen", password: "pässword" });
  assert.deepEqual(basicCredentials(basic(":only-password")), { username: "", password: "only-password" });
  assert.equal(basicCredentials(basic("no-colon")), null);
  const lower = new Request("http://x/", { headers: { authorization: `basic   ${btoa("a:b")}` } });
  assert.deepEqual(basicCredentials(lower), { username: "a", password: "b" }, "the scheme is case-insensitive");
  assert.equal(basicCredentials(new Request("http://x/")), null);
  assert.equal(basicCredentials(new Request("http://x/", { headers: { authorization: "Bearer abc" } })), null);
  const broken = new Request("http://x/", { headers: { authorization: "Basic %%%" } });
  assert.throws(() => basicCredentials(broken), code("bad_request"));
});

Deno.test("credentialsOf() prefers the body's username, else Basic, and never reads a Bearer header", () => {
  const basic = new Request("http://x/", { headers: { authorization: `Basic ${btoa("basic-user:basic-pw")}` } });
  assert.deepEqual(credentialsOf(basic, { username: "body-user", password: "body-pw" }), {
    username: "body-user",
    password: "body-pw",
  });
  assert.deepEqual(credentialsOf(basic, { username: "body-user" }), { username: "body-user" });
  assert.deepEqual(credentialsOf(basic, {}), { username: "basic-user", password: "basic-pw" });
  assert.deepEqual(credentialsOf(basic, { password: "body-pw" }), { username: "basic-user", password: "basic-pw" });
  const bearer = new Request("http://x/", { headers: { authorization: `Bearer ${"ab".repeat(32)}` } });
  assert.deepEqual(credentialsOf(bearer, {}), {});
  assert.deepEqual(credentialsOf(bearer, { password: "pw" }), { password: "pw" });
  assert.throws(() => credentialsOf(bearer, { username: 5 }), code("invalid_field"));
});
