/**
 * Discovery: `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0) and
 * `GET /.well-known/oauth-authorization-server` (RFC 8414), one document that lists only what
 * works: the endpoints that exist, the grants `/token` answers, and the algorithms of the keys
 * published right now (serialized once per key-set change): the authorization endpoint with
 * `code` + PKCE S256 only, and the claims tokens really carry. No `registration_endpoint` (no
 * RFC 7591). Open CORS; cacheable for as long as the JWKS is.
 * @module
 */
import type { KeyView } from "../core/key_ring.ts";
import type { Handler, Route } from "../http/router.ts";
import { GRANT_TYPES } from "../oauth/grant_types.ts";
import { ID_TOKEN_OWN_CLAIMS, SIGNED_CLAIMS } from "../oauth/id_tokens.ts";

/** What discovery needs. */
export interface DiscoveryDeps {
  readonly issuer: string;
  /** The key view (a `KeyManager`): the published keys' algorithms are what verifiers must accept. */
  readonly keys: { view(): KeyView };
  /** `max-age` of the document, seconds: the JWKS's, since the algorithms follow the key set. */
  readonly maxAge: number;
}

/** The scopes this server gives a meaning to (clients may be registered with others too). */
export const SCOPES_SUPPORTED: readonly string[] = Object.freeze(["openid", "profile", "email", "offline_access"]);

/** The algorithms of the keys `view` publishes, in JWKS order, each once. */
export function publishedAlgs(view: KeyView): string[] {
  return [...new Set(view.jwks.keys.map((key) => String(key.alg)))];
}

/** The discovery document for `issuer` while keys of `algs` are published. */
export function discoveryDocument(deps: { readonly issuer: string; readonly algs: readonly string[] }): Record<
  string,
  unknown
> {
  const { issuer, algs } = deps;
  const secretMethods = ["client_secret_basic", "client_secret_post"];
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/introspect`,
    revocation_endpoint: `${issuer}/revoke`,
    userinfo_endpoint: `${issuer}/userinfo`,
    grant_types_supported: [...GRANT_TYPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    code_challenge_methods_supported: ["S256"],
    subject_types_supported: ["public"],
    scopes_supported: [...SCOPES_SUPPORTED],
    token_endpoint_auth_methods_supported: [...secretMethods, "none"],
    introspection_endpoint_auth_methods_supported: secretMethods,
    revocation_endpoint_auth_methods_supported: [...secretMethods, "none"],
    id_token_signing_alg_values_supported: [...algs],
    claims_supported: [
      ...SIGNED_CLAIMS,
      "client_id",
      "scope",
      ...ID_TOKEN_OWN_CLAIMS,
      "preferred_username",
      "email",
    ],
    // RFC 9207: authorization responses carry `iss`.
    authorization_response_iss_parameter_supported: true,
    // OpenID Connect Discovery defaults this to true; there is no request_uri support.
    request_uri_parameter_supported: false,
  };
}

/** The two discovery routes. */
export function discoveryRoutes(deps: DiscoveryDeps): Route[] {
  const bodies = new WeakMap<object, Uint8Array<ArrayBuffer>>();
  const handler: Handler = (ctx) => {
    const view = deps.keys.view();
    let body = bodies.get(view.jwks);
    if (body === undefined) {
      body = new TextEncoder().encode(
        JSON.stringify(discoveryDocument({ issuer: deps.issuer, algs: publishedAlgs(view) })),
      );
      bodies.set(view.jwks, body);
    }
    return new Response(body, {
      headers: {
        "content-type": "application/json",
        "cache-control": `public, max-age=${deps.maxAge}`,
        "access-control-allow-origin": "*",
        "x-request-id": ctx.requestId,
      },
    });
  };
  return [
    { path: "/.well-known/openid-configuration", methods: { GET: handler }, cors: true },
    { path: "/.well-known/oauth-authorization-server", methods: { GET: handler }, cors: true },
  ];
}
