/**
 * The grant types of `/token`, one module each (`grant_*.ts`, shaped by `grant.ts`). Adding a
 * grant is its name in `grant_types.ts`, its module, and its line here.
 * @module
 */
import type { Grant } from "./grant.ts";
import { authorizationCodeGrant } from "./grant_authorization_code.ts";
import { clientCredentialsGrant } from "./grant_client_credentials.ts";
import { passwordGrant } from "./grant_password.ts";
import { refreshTokenGrant } from "./grant_refresh_token.ts";
import type { GrantType } from "./grant_types.ts";

/** Every grant, by type: a type without a module does not compile. */
export const GRANTS: Readonly<Record<GrantType, Grant>> = Object.freeze({
  authorization_code: authorizationCodeGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
});
