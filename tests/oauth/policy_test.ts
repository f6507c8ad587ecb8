import assert from "node:assert/strict";
import type { AuthenticatedClient } from "../../lib/oauth/client_auth.ts";
import { OAuthError } from "../../lib/oauth/errors.ts";
import { grantedAudience, grantedScope, refreshDecision } from "../../lib/oauth/policy.ts";
import { clientRecord } from "../support/store_contract.ts";

const registered: AuthenticatedClient = {
  id: "c",
  method: "client_secret_basic",
  record: clientRecord("c", { scopes: ["read", "offline_access"], audiences: ["https://api"] }),
};
const adhoc: AuthenticatedClient = { id: "mock", method: "none", record: null };
const options = { configured: null, issuer: "https://issuer" };

Deno.test("grantedScope(): registered scopes only; the default leaves offline_access out", () => {
  assert.deepEqual(grantedScope(registered, undefined), ["read"]);
  assert.deepEqual(grantedScope(registered, ["offline_access"]), ["offline_access"]);
  assert.throws(() => grantedScope(registered, ["write"]), (e: OAuthError) => e.oauthCode === "invalid_scope");
  assert.deepEqual(grantedScope(adhoc, ["anything"]), ["anything"]);
  assert.deepEqual(grantedScope(adhoc, undefined), []);
});

Deno.test("grantedAudience(): registered or configured audiences; a default always", () => {
  assert.deepEqual(grantedAudience(registered, [], options), ["https://api"]);
  assert.deepEqual(grantedAudience(registered, [], { ...options, configured: "conf" }), ["conf"]);
  assert.deepEqual(grantedAudience(registered, ["conf"], { ...options, configured: "conf" }), ["conf"]);
  assert.throws(
    () => grantedAudience(registered, ["other"], options),
    (e: OAuthError) => e.oauthCode === "invalid_target",
  );
  assert.deepEqual(grantedAudience(adhoc, [], options), ["https://issuer"], "RFC 9068 access tokens carry an aud");
  assert.deepEqual(grantedAudience(adhoc, ["x", "y"], options), ["x", "y"]);
});

Deno.test("refreshDecision(): a refresh token only with offline_access and the refresh_token grant", () => {
  const refresher = { ...registered, record: { ...registered.record!, grantTypes: ["password", "refresh_token"] } };
  assert.deepEqual(refreshDecision(refresher, ["read", "offline_access"]), {
    scope: ["read", "offline_access"],
    refresh: true,
  });
  assert.deepEqual(refreshDecision(refresher, ["read"]), { scope: ["read"], refresh: false });
  const noRefresh = { ...registered, record: { ...registered.record!, grantTypes: ["password"] } };
  assert.deepEqual(refreshDecision(noRefresh, ["read", "offline_access"]), { scope: ["read"], refresh: false });
});
