/**
 * What a client may get: the scope (RFC 6749 §3.3) and audiences (RFC 8707, RFC 9068 `aud`) it
 * asked for, checked against its registration, and whether a refresh token comes with it. An
 * ad-hoc client of open mode has no registration, so nothing it asks for is refused. Pure.
 * @module
 */
import type { AuthenticatedClient } from "./client_auth.ts";
import { OAuthError } from "./errors.ts";

/** The scope that asks for a refresh token (OpenID Connect Core §11). */
export const OFFLINE_ACCESS = "offline_access";

/**
 * The scope granted for `requested` (undefined: the request named none). A registered client
 * gets what it asked for if every value is registered (else `invalid_scope`), or by default
 * every registered value but `offline_access`; an ad-hoc client gets what it asked for.
 */
export function grantedScope(client: AuthenticatedClient, requested: readonly string[] | undefined): string[] {
  const record = client.record;
  if (record === null) return [...requested ?? []];
  if (requested === undefined) return record.scopes.filter((scope) => scope !== OFFLINE_ACCESS);
  const unknown = requested.filter((scope) => !record.scopes.includes(scope));
  if (unknown.length > 0) {
    throw new OAuthError("invalid_scope", `Client may not ask for scope "${unknown[0]!.slice(0, 60)}"`);
  }
  return [...requested];
}

/** Options of {@linkcode grantedAudience}. */
export interface AudienceOptions {
  /** The configured `aud` (`--audience`), or null. */
  readonly configured: string | null;
  /** Used when nothing else names an audience: RFC 9068 access tokens always carry one. */
  readonly issuer: string;
}

/**
 * The audiences for `requested` (empty: the request named none). A registered client may ask for
 * its registered audiences and the configured one (else `invalid_target`); by default it gets the
 * configured audience, else its first registered one, else the issuer.
 */
export function grantedAudience(
  client: AuthenticatedClient,
  requested: readonly string[],
  options: AudienceOptions,
): string[] {
  const record = client.record;
  if (requested.length > 0) {
    if (record !== null) {
      const allowed = new Set([...record.audiences, ...(options.configured === null ? [] : [options.configured])]);
      const refused = requested.find((audience) => !allowed.has(audience));
      if (refused !== undefined) {
        throw new OAuthError("invalid_target", `Client may not ask for audience "${refused.slice(0, 80)}"`);
      }
    }
    return [...requested];
  }
  return [options.configured ?? record?.audiences[0] ?? options.issuer];
}

/** True when the client may hold refresh tokens: registered for the grant, or ad-hoc. */
export function mayRefresh(client: AuthenticatedClient): boolean {
  return client.record === null || client.record.grantTypes.includes("refresh_token");
}

/**
 * Splits a granted scope into what the access token carries and whether a refresh token is
 * issued: only when `offline_access` was granted and the client may refresh. `offline_access`
 * stays in the scope only when a refresh token comes with it.
 */
export function refreshDecision(client: AuthenticatedClient, scope: readonly string[]): {
  scope: string[];
  refresh: boolean;
} {
  const refresh = scope.includes(OFFLINE_ACCESS) && mayRefresh(client);
  return { scope: refresh ? [...scope] : scope.filter((value) => value !== OFFLINE_ACCESS), refresh };
}
