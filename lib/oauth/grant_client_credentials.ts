/**
 * The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets an access token for
 * itself (`sub` = its `client_id`, RFC 9068 §3), never a refresh token (§4.4.3), and never the
 * `openid` scope, which needs an end-user.
 * @module
 */
import { OAuthError } from "./errors.ts";
import type { Grant } from "./grant.ts";
import { issueTokens } from "./issue.ts";
import { parseScope, requestedAudiences } from "./params.ts";
import { grantedAudience, grantedScope, OFFLINE_ACCESS } from "./policy.ts";

/** The `client_credentials` grant. */
export const clientCredentialsGrant: Grant = {
  type: "client_credentials",
  async run({ form, client, mock, expired }, deps) {
    if (client.record !== null && client.record.secretHash === null) {
      throw new OAuthError("unauthorized_client", "A public client cannot use client_credentials");
    }
    const requested = parseScope(form.get("scope"));
    // The default scope leaves out what needs an end-user; asking for it is an error.
    const scope = grantedScope(client, requested).filter((value) => requested !== undefined || value !== "openid");
    if (scope.includes("openid")) {
      throw new OAuthError("invalid_scope", 'Scope "openid" needs an end-user; client_credentials has none');
    }
    const audience = grantedAudience(client, requestedAudiences(form, mock?.audience ?? []), {
      configured: deps.audience,
      issuer: deps.issuer,
    });
    return await issueTokens(deps, {
      client,
      subject: client.id,
      userId: null,
      scope: scope.filter((value) => value !== OFFLINE_ACCESS),
      audience,
      refresh: null,
      mock,
      expired,
    });
  },
};
