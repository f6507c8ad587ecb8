import assert from "node:assert/strict";
import { GRANT_TYPES } from "../../lib/oauth/grant_types.ts";
import { GRANTS } from "../../lib/oauth/grants.ts";

Deno.test("the grant types are the four of RFC 6749 this server implements, frozen", () => {
  assert.deepEqual([...GRANT_TYPES], ["authorization_code", "client_credentials", "password", "refresh_token"]);
  assert.ok(Object.isFrozen(GRANT_TYPES));
  assert.throws(() => (GRANT_TYPES as unknown as string[]).push("implicit"));
});

Deno.test("every grant type has a module, and every module has a grant type", () => {
  assert.deepEqual(Object.keys(GRANTS).sort(), [...GRANT_TYPES].sort());
});
