/**
 * The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3): the code
 * of a sign-in at `GET /authorize`, redeemed once, within 60 s, by the client it was issued to,
 * with the same `redirect_uri` and the PKCE verifier of its challenge. A code presented again is
 * `invalid_grant` and revokes the access token and refresh family its redemption issued
 * (§4.1.2). Returns an ID token with `openid`, a refresh token with `offline_access`.
 * @module
 */
import type { GrantRecord } from "../store/oauth_ports.ts";
import { codeHash, verifierMatches } from "./codes.ts";
import { OAuthError } from "./errors.ts";
import type { Grant } from "./grant.ts";
import { issueTokens } from "./issue.ts";
import { requestedAudiences, required } from "./params.ts";
import { grantedAudience, refreshDecision } from "./policy.ts";

const invalid = (description: string) => new OAuthError("invalid_grant", description);

/** The `authorization_code` grant. */
export const authorizationCodeGrant: Grant = {
  type: "authorization_code",
  async run({ form, client, mock, expired }, deps) {
    if (expired) throw new OAuthError("invalid_request", "?expired=true does not apply to authorization_code");
    const hash = codeHash(required(form, "code"));
    const redirectUri = required(form, "redirect_uri");
    const verifier = form.get("code_verifier");
    const audience = grantedAudience(client, requestedAudiences(form, mock?.audience ?? []), {
      configured: deps.audience,
      issuer: deps.issuer,
    });
    const now = deps.keys.now();
    const code = await deps.store.findCode(hash);
    if (code === null || code.expiresAt <= now && code.usedAt === null) {
      throw invalid("Authorization code is invalid or expired");
    }
    if (code.usedAt !== null) {
      await deps.store.revokeCode(hash, now);
      throw invalid("Authorization code was already used; the tokens issued from it are revoked");
    }
    if (code.clientId !== client.id) throw invalid("Authorization code was issued to another client");
    if (code.redirectUri !== redirectUri) throw invalid("redirect_uri differs from the authorization request's");
    if (code.codeChallenge === null) {
      // RFC 9700 §2.1.1: a verifier without a challenge is refused, or PKCE could be downgraded.
      if (verifier !== undefined) throw invalid("code_verifier sent, but the authorization request had no challenge");
    } else if (verifier === undefined) {
      throw invalid("code_verifier is required: the authorization request sent a PKCE challenge");
    } else if (!verifierMatches(verifier, code.codeChallenge)) {
      throw invalid("code_verifier does not match the code_challenge");
    }
    const scope = code.scope.split(" ").filter((value) => value !== "");
    const decision = refreshDecision(client, scope);
    const jti = crypto.randomUUID();
    const grant: GrantRecord | null = decision.refresh
      ? {
        id: crypto.randomUUID(),
        clientId: client.id,
        subject: code.subject,
        userId: code.userId,
        scope: decision.scope.join(" "),
        audience: [...audience],
        createdAt: now,
        revokedAt: null,
      }
      : null;
    const accessExp = now + (mock?.ttl ?? deps.tokenTtl);
    if (!await deps.store.useCode(hash, now, { accessJti: jti, accessExp, grant })) {
      // Another request redeemed it a moment ago: this one is the replay.
      await deps.store.revokeCode(hash, now);
      throw invalid("Authorization code was already used; the tokens issued from it are revoked");
    }
    const claims = { ...code.claims };
    return await issueTokens(deps, {
      client,
      subject: code.subject,
      userId: code.userId,
      scope: decision.scope,
      audience,
      refresh: grant === null ? null : { grant },
      // The claims of the sign-in go into the access token too, as open mode's claims do.
      mock: Object.keys(claims).length === 0 && mock === null
        ? null
        : { ...mock, claims: { ...mock?.claims, ...claims } },
      expired: false,
      jti,
      identity: scope.includes("openid") ? { authTime: code.authTime, nonce: code.nonce, claims } : null,
    });
  },
};
