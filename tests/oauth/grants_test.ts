import assert from "node:assert/strict";
import { clientCredentialsGrant } from "../../lib/oauth/grant_client_credentials.ts";
import { passwordGrant } from "../../lib/oauth/grant_password.ts";
import { refreshTokenGrant } from "../../lib/oauth/grant_refresh_token.ts";
import { GRANT_TYPES } from "../../lib/oauth/grant_types.ts";
import { GRANTS } from "../../lib/oauth/grants.ts";

Deno.test("GRANTS maps each grant type to the module that declares that type", () => {
  assert.equal(GRANTS.client_credentials, clientCredentialsGrant);
  assert.equal(GRANTS.password, passwordGrant);
  assert.equal(GRANTS.refresh_token, refreshTokenGrant);
  for (const type of GRANT_TYPES) {
    assert.equal(GRANTS[type].type, type, `the module under "${type}" says it is that grant`);
  }
});

Deno.test("the table cannot be changed at run time", () => {
  assert.ok(Object.isFrozen(GRANTS));
  assert.throws(() => Object.assign(GRANTS, { implicit: passwordGrant }));
});
