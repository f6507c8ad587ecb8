/**
 * The `password` grant (RFC 6749 §4.3): the resource owner's username and password, checked by
 * the same login policy as `POST /auth` (Argon2id, backoff per username and client IP, open
 * mode's rules) and logged to `auth_logs` the same way. A refresh token comes with `offline_access`.
 * @module
 */
import { hasCode } from "../core/errors.ts";
import { OAuthError } from "./errors.ts";
import type { Grant } from "./grant.ts";
import { issueTokens } from "./issue.ts";
import { parseScope, requestedAudiences, required } from "./params.ts";
import { grantedAudience, grantedScope, refreshDecision } from "./policy.ts";

/** The `password` grant. */
export const passwordGrant: Grant = {
  type: "password",
  async run({ form, client, mock, expired, ip }, deps) {
    const username = required(form, "username");
    // Open mode mints tokens for unregistered usernames without a password, as /auth does.
    const password = deps.login.mode === "password" ? required(form, "password") : form.get("password");
    const scope = grantedScope(client, parseScope(form.get("scope")));
    const audience = grantedAudience(client, requestedAudiences(form, mock?.audience ?? []), {
      configured: deps.audience,
      issuer: deps.issuer,
    });
    if (deps.loginLog?.healthy === false) {
      throw new OAuthError("temporarily_unavailable", "Logins cannot be recorded right now; try again shortly", {
        retryAfter: 2,
      });
    }
    let login;
    try {
      login = await deps.login.authenticate(
        password === undefined ? { username } : { username, password },
        deps.clock(),
        { ip },
      );
    } catch (error) {
      if (hasCode(error, "unauthorized")) throw new OAuthError("invalid_grant", "Invalid username or password");
      if (hasCode(error, "too_many_attempts")) {
        throw new OAuthError("invalid_grant", error.message, { status: 429, retryAfter: error.retryAfter ?? 1 });
      }
      throw error;
    }
    const decision = refreshDecision(client, scope);
    const response = await issueTokens(deps, {
      client,
      subject: login.subject,
      userId: login.userId,
      scope: decision.scope,
      audience,
      refresh: decision.refresh ? { scope: decision.scope } : null,
      mock,
      expired,
    });
    deps.loginLog?.record({ userId: login.userId, ip, at: deps.clock() });
    return response;
  },
};
