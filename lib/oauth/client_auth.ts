/**
 * Client authentication at the OAuth endpoints (RFC 6749 §2.3): `client_secret_basic` (the
 * `Authorization: Basic` header, each half form-urlencoded), `client_secret_post` (`client_id`
 * and `client_secret` in the body) and `none` for public clients; never two methods at once.
 * Password mode knows only registered clients; open mode (the mock issuer) takes any other
 * `client_id`, or none, without a secret, while a registered client must still prove itself.
 * @module
 */
import type { ClientRecord } from "../store/oauth_ports.ts";
import type { AuthMode } from "../users/login.ts";
import { secretMatches } from "./clients.ts";
import { OAuthError } from "./errors.ts";
import type { OAuthForm } from "./params.ts";

/** How a client authenticated. */
export type AuthMethod = "client_secret_basic" | "client_secret_post" | "none";

/** The client a request comes from. */
export interface AuthenticatedClient {
  readonly id: string;
  /** The registered client, or null for an ad-hoc client of open mode (no limits apply to it). */
  readonly record: ClientRecord | null;
  readonly method: AuthMethod;
}

/** Options of {@linkcode authenticateClient}. */
export interface ClientAuthOptions {
  readonly mode: AuthMode;
  readonly clients: { find(id: string): Promise<ClientRecord | null> };
  /** Whether public clients (no secret) may use the endpoint; introspection says no. */
  readonly allowPublic: boolean;
}

/** The `client_id` of an open-mode request that names none. */
export const ANONYMOUS_CLIENT = "anonymous";

const MAX_CREDENTIAL = 256;
const BASIC = /^basic[ \t]+([A-Za-z0-9+/=]*)[ \t]*$/i;
const CHALLENGE = 'Basic realm="jwks-server", charset="UTF-8"';

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, " "));
}

function refuse(description: string, basic: boolean): OAuthError {
  return new OAuthError("invalid_client", description, basic ? { headers: { "www-authenticate": CHALLENGE } } : {});
}

/** The `id:secret` of a Basic header (RFC 6749 §2.3.1), or null when the request sends none. */
export function basicClient(request: Request): { id: string; secret: string } | null {
  const header = request.headers.get("authorization");
  if (header === null || !/^basic\b/i.test(header)) return null;
  const match = BASIC.exec(header);
  try {
    if (match === null) throw new Error("not base64");
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(match[1]!));
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new Error("no colon");
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw refuse("Authorization: Basic must carry base64 of client_id:client_secret, each form-urlencoded", true);
  }
}

/**
 * The client `request` comes from, authenticated. Throws `invalid_client` (401, with a Basic
 * challenge when Basic was tried) or `invalid_request` (two methods at once).
 */
export async function authenticateClient(
  request: Request,
  form: OAuthForm,
  options: ClientAuthOptions,
): Promise<AuthenticatedClient> {
  const basic = basicClient(request);
  const postId = form.get("client_id");
  const postSecret = form.get("client_secret");
  if (basic !== null && postSecret !== undefined) {
    throw new OAuthError("invalid_request", "Authenticate the client one way: Basic or client_secret, not both");
  }
  if (basic !== null && postId !== undefined && postId !== basic.id) {
    throw new OAuthError("invalid_request", "client_id differs from the one in Authorization: Basic");
  }
  const id = basic?.id ?? postId;
  const secret = basic?.secret ?? postSecret;
  const method: AuthMethod = basic !== null
    ? "client_secret_basic"
    : secret !== undefined
    ? "client_secret_post"
    : "none";
  const usedBasic = basic !== null;
  if (id === undefined) {
    if (options.mode === "open") return { id: ANONYMOUS_CLIENT, record: null, method };
    throw refuse(
      "Client authentication is required (client_secret_basic, client_secret_post or a public client_id)",
      usedBasic,
    );
  }
  if (id.length > MAX_CREDENTIAL || (secret?.length ?? 0) > MAX_CREDENTIAL) {
    throw refuse("Client authentication failed", usedBasic);
  }
  const record = await options.clients.find(id);
  if (record === null) {
    if (options.mode === "open") return { id, record: null, method };
    throw refuse("Client authentication failed", usedBasic);
  }
  if (record.secretHash === null) {
    // A public client has no secret to present; one that sends a secret is not this client.
    if (secret !== undefined && secret !== "") throw refuse("Client authentication failed", usedBasic);
    if (!options.allowPublic) throw refuse("Public clients cannot use this endpoint", usedBasic);
    return { id, record, method: "none" };
  }
  if (secret === undefined || !secretMatches(record, secret)) throw refuse("Client authentication failed", usedBasic);
  return { id, record, method };
}
