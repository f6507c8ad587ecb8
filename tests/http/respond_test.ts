import assert from "node:assert/strict";
import { AppError, type ErrorCode } from "../../lib/core/errors.ts";
import { errorResponse, json, NO_STORE, STATUS, statusOf } from "../../lib/http/respond.ts";

/** An answering context that records what it is told to report. */
function answering(requestId = "req-1") {
  const reported: unknown[] = [];
  return { requestId, report: (error: unknown) => reported.push(error), reported };
}

Deno.test("the one status table maps every error code the way the API promises", () => {
  const codesByStatus: Record<number, ErrorCode[]> = {
    400: ["bad_request", "invalid_json", "invalid_field", "invalid_key", "usage"],
    401: ["unauthorized"],
    403: ["forbidden"],
    404: ["not_found"],
    405: ["method_not_allowed"],
    408: ["request_timeout"],
    409: ["conflict"],
    413: ["payload_too_large"],
    415: ["unsupported_media_type"],
    429: ["rate_limited", "too_many_attempts"],
    500: ["internal", "invalid_config", "wrong_secret", "corrupt_data"],
    503: ["overloaded", "unavailable", "no_signing_key"],
  };
  const expected = Object.fromEntries(
    Object.entries(codesByStatus).flatMap(([status, codes]) => codes.map((code) => [code, Number(status)])),
  );
  assert.deepEqual({ ...STATUS }, expected);
  assert.ok(Object.isFrozen(STATUS));
  assert.equal(statusOf(new AppError("conflict", "x")), 409);
  assert.equal(statusOf(new Error("boom")), 500);
  assert.equal(statusOf("a string"), 500);
});

Deno.test("json() answers JSON with the request id and the extra headers", async () => {
  const response = json({ requestId: "abc" }, 201, { a: [1, "ü"] }, NO_STORE);
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("x-request-id"), "abc");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(await response.text(), '{"a":[1,"ü"]}');
});

Deno.test("errorResponse() writes the error shape, its headers and Retry-After", async (t) => {
  await t.step("code and message, and the field when one is at fault; 4xx is not reported", async () => {
    const ctx = answering();
    const response = errorResponse(ctx, new AppError("invalid_field", 'Field "kid" is bad', { field: "kid" }));
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("x-request-id"), "req-1");
    assert.deepEqual(await response.json(), { error: "invalid_field", message: 'Field "kid" is bad', field: "kid" });
    assert.deepEqual(ctx.reported, []);
  });
  await t.step("Retry-After in whole seconds, at least 1; the error's headers over the caller's", () => {
    const ctx = answering();
    const at = (retryAfter: number) =>
      errorResponse(ctx, new AppError("rate_limited", "Slow down", { retryAfter })).headers.get("retry-after");
    assert.equal(at(0.2), "1");
    assert.equal(at(1), "1");
    assert.equal(at(2.1), "3");
    const response = errorResponse(
      ctx,
      new AppError("rate_limited", "Slow down", { headers: { "x-from": "error" } }),
      { "x-from": "caller", "x-only": "caller" },
    );
    assert.equal(response.headers.get("x-from"), "error");
    assert.equal(response.headers.get("x-only"), "caller");
    assert.equal(response.headers.get("retry-after"), null, "no Retry-After unless the error has one");
  });
  await t.step("401 carries a Basic challenge unless the error names its own", () => {
    const ctx = answering();
    const plain = errorResponse(ctx, new AppError("unauthorized", "Who are you"));
    assert.equal(plain.headers.get("www-authenticate"), 'Basic realm="jwks-server", charset="UTF-8"');
    const bearer = errorResponse(
      ctx,
      new AppError("unauthorized", "Token", { headers: { "www-authenticate": 'Bearer realm="admin"' } }),
    );
    assert.equal(bearer.headers.get("www-authenticate"), 'Bearer realm="admin"');
    assert.equal(errorResponse(ctx, new AppError("forbidden", "No")).headers.get("www-authenticate"), null);
  });
  await t.step("5xx AppErrors are reported and keep their safe message", async () => {
    const ctx = answering();
    const error = new AppError("unavailable", "Database is busy", { retryAfter: 2 });
    const response = errorResponse(ctx, error);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { error: "unavailable", message: "Database is busy" });
    assert.deepEqual(ctx.reported, [error]);
    const internal = new AppError("internal", "Something broke");
    assert.equal(errorResponse(ctx, internal).status, 500);
    assert.deepEqual(ctx.reported, [error, internal], "a 500 is reported too");
  });
  await t.step("anything else is a reported, generic 500 with no detail", async () => {
    const ctx = answering("req-9");
    const error = new TypeError("secret detail /etc/passwd");
    const response = errorResponse(ctx, error, { "x-extra": "1" });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("x-extra"), "1");
    assert.equal(await response.text(), '{"error":"internal","message":"Internal server error"}');
    assert.deepEqual(ctx.reported, [error]);
  });
});
