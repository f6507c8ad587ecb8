import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { OAuthError, oauthErrorResponse } from "../../lib/oauth/errors.ts";

const ctx = (reported: unknown[] = []) => ({ requestId: "r1", report: (error: unknown) => reported.push(error) });

Deno.test("OAuth errors answer RFC 6749 §5.2 JSON with their status, not cacheable", async () => {
  const response = oauthErrorResponse(ctx(), new OAuthError("invalid_grant", "Nope"));
  assert.equal(response.status, 400);
  assert.deepEqual(await response.json(), { error: "invalid_grant", error_description: "Nope" });
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("pragma"), "no-cache");
  assert.equal(oauthErrorResponse(ctx(), new OAuthError("invalid_client", "x")).status, 401);
  assert.equal(oauthErrorResponse(ctx(), new OAuthError("insufficient_scope", "x")).status, 403);
});

Deno.test("our own errors map to the nearest OAuth code, keeping status, headers and Retry-After", async () => {
  const cases: [AppError, number, string][] = [
    [new AppError("payload_too_large", "Too big"), 413, "invalid_request"],
    [
      new AppError("rate_limited", "Slow down", { retryAfter: 2, headers: { "ratelimit-remaining": "0" } }),
      429,
      "invalid_request",
    ],
    [new AppError("too_many_attempts", "Wait"), 429, "invalid_grant"],
    [new AppError("unauthorized", "Who"), 401, "invalid_client"],
    [new AppError("unavailable", "Later"), 503, "temporarily_unavailable"],
    [new AppError("internal", "Oops"), 500, "server_error"],
  ];
  for (const [error, status, code] of cases) {
    const response = oauthErrorResponse(ctx(), error);
    assert.equal(response.status, status, error.code);
    assert.equal((await response.json()).error, code, error.code);
  }
  const limited = oauthErrorResponse(ctx(), cases[1]![0]);
  assert.equal(limited.headers.get("retry-after"), "2");
  assert.equal(limited.headers.get("ratelimit-remaining"), "0");
});

Deno.test("an unexpected error is reported and answered as a bare server_error", async () => {
  const reported: unknown[] = [];
  const response = oauthErrorResponse(ctx(reported), new Error("secret detail"));
  assert.equal(response.status, 500);
  const text = await response.text();
  assert.equal(text.includes("secret detail"), false);
  assert.equal(JSON.parse(text).error, "server_error");
  assert.equal(reported.length, 1);
});
