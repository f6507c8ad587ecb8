/**
 * The grant types `/token` answers, by name: what clients may be registered for and what
 * discovery advertises. Each has its module (`grant_*.ts`), listed in `grants.ts`; a test
 * checks the two lists agree.
 * @module
 */

/** Grant types of RFC 6749 this server implements. */
export const GRANT_TYPES = Object.freeze(
  ["authorization_code", "client_credentials", "password", "refresh_token"] as const,
);

/** One of {@linkcode GRANT_TYPES}. */
export type GrantType = typeof GRANT_TYPES[number];
