/**
 * The `refresh_token` grant (RFC 6749 §6, RFC 9700 §4.14.2): the presented token is claimed once
 * and replaced by a new one of the same grant; a token presented again, or by another client,
 * revokes the whole grant. `scope` and `resource` may narrow what the new access token carries
 * (checked before the token is claimed, so a refused narrowing costs nothing); the grant keeps
 * its scope.
 * @module
 */
import type { GrantRecord } from "../store/oauth_ports.ts";
import { OAuthError } from "./errors.ts";
import type { Grant } from "./grant.ts";
import { issueTokens, refreshTokenHash } from "./issue.ts";
import { parseScope, requestedAudiences, required } from "./params.ts";

function narrowed(grant: GrantRecord, scope: readonly string[] | undefined, audience: readonly string[]) {
  const granted = grant.scope.split(" ").filter((value) => value !== "");
  const wider = scope?.find((value) => !granted.includes(value));
  if (wider !== undefined) throw new OAuthError("invalid_scope", `Scope "${wider.slice(0, 60)}" was not granted`);
  const outside = audience.find((value) => !grant.audience.includes(value));
  if (outside !== undefined) {
    throw new OAuthError("invalid_target", `Audience "${outside.slice(0, 80)}" was not granted`);
  }
  return { scope: scope ?? granted, audience: audience.length > 0 ? audience : grant.audience };
}

/** The `refresh_token` grant. */
export const refreshTokenGrant: Grant = {
  type: "refresh_token",
  async run({ form, client, mock, expired }, deps) {
    if (expired) throw new OAuthError("invalid_request", "?expired=true does not apply to refresh_token");
    const hash = refreshTokenHash(required(form, "refresh_token"));
    const requestedScope = parseScope(form.get("scope"));
    const requestedAudience = requestedAudiences(form, mock?.audience ?? []);
    const active = await deps.store.findRefreshToken(hash, deps.keys.now());
    if (active !== null) {
      if (active.grant.clientId !== client.id) {
        // Another client holds this client's token: it leaked, so nothing issued from it stands.
        await deps.store.revokeGrant(active.grant.id, deps.keys.now());
        throw new OAuthError("invalid_grant", "Refresh token was issued to another client");
      }
      narrowed(active.grant, requestedScope, requestedAudience);
    }
    const used = await deps.store.useRefreshToken(hash, deps.keys.now());
    if (used.status === "invalid") {
      throw new OAuthError("invalid_grant", "Refresh token is invalid, expired or revoked");
    }
    if (used.status === "reused") {
      throw new OAuthError("invalid_grant", "Refresh token was already used; every token of its grant is revoked");
    }
    const { grant } = used;
    const { scope, audience } = narrowed(grant, requestedScope, requestedAudience);
    return await issueTokens(deps, {
      client,
      subject: grant.subject,
      userId: grant.userId,
      scope,
      audience,
      refresh: { grant },
      mock,
      expired: false,
    });
  },
};
