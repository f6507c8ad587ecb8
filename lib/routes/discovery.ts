/**
 * Discovery: `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0) and
 * `GET /.well-known/oauth-authorization-server` (RFC 8414), one document serialized once.
 * Open CORS; cacheable for an hour.
 * @module
 */
import type { Handler, Route } from "../http/router.ts";

/** What discovery needs. */
export interface DiscoveryDeps {
  readonly issuer: string;
  /** Signing algorithms this server may publish. */
  readonly algs: readonly string[];
}

/** The discovery document for `deps`. */
export function discoveryDocument(deps: DiscoveryDeps): Record<string, unknown> {
  const { issuer, algs } = deps;
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    token_endpoint: `${issuer}/auth`,
    registration_endpoint: `${issuer}/register`,
    grant_types_supported: ["password"],
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    id_token_signing_alg_values_supported: algs,
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "jti"],
  };
}

/** The two discovery routes. */
export function discoveryRoutes(deps: DiscoveryDeps): Route[] {
  const body = new TextEncoder().encode(JSON.stringify(discoveryDocument(deps)));
  const handler: Handler = (ctx) =>
    new Response(body, {
      headers: {
        "content-type": "application/json",
        "cache-control": "public, max-age=3600",
        "access-control-allow-origin": "*",
        "x-request-id": ctx.requestId,
      },
    });
  return [
    { path: "/.well-known/openid-configuration", methods: { GET: handler }, cors: true },
    { path: "/.well-known/oauth-authorization-server", methods: { GET: handler }, cors: true },
  ];
}
