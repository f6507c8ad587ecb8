/**
 * OAuth clients: registration (a random id and, for confidential clients, a 256-bit secret shown
 * once and stored as its SHA-256 — a high-entropy secret needs no slow hash), validation of what a
 * client may do (grant types, scopes, redirect URIs, audiences), and the constant-time secret
 * check. Storage through the `OAuthStore` port; the CLI and the admin API both use this.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../core/errors.ts";
import type { ClientRecord, OAuthStore } from "../store/oauth_ports.ts";
import { GRANT_TYPES } from "./grant_types.ts";
import { checkAudience, MAX_AUDIENCES, MAX_SCOPES, parseScope } from "./params.ts";

/** A client to register, as a person asks for it. */
export interface ClientInput {
  readonly name: unknown;
  /** Default: `client_credentials` for a confidential client, `password` and `refresh_token` for a public one. */
  readonly grantTypes?: unknown;
  readonly scopes?: unknown;
  readonly redirectUris?: unknown;
  readonly audiences?: unknown;
  /** A public client has no secret (a native or browser app). Default false. */
  readonly public?: unknown;
}

/** A registered client and its secret: the only time the secret is ever seen. */
export interface RegisteredClient {
  readonly client: ClientRecord;
  /** Null for a public client. */
  readonly secret: string | null;
}

/** A client as the CLI and the admin API show it: no secret hash. */
export interface ClientView {
  readonly client_id: string;
  readonly name: string;
  readonly public: boolean;
  readonly grant_types: readonly string[];
  readonly scopes: readonly string[];
  readonly redirect_uris: readonly string[];
  readonly audiences: readonly string[];
  /** Unix seconds. */
  readonly created_at: number;
}

const MAX_NAME = 100;
const MAX_REDIRECT_URIS = 10;

/** SHA-256 of a client secret. */
export function hashSecret(secret: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(secret, "utf8").digest());
}

/** True when `secret` is `client`'s secret. Constant time in the secret; false for a public client. */
export function secretMatches(client: ClientRecord, secret: string): boolean {
  if (client.secretHash === null || client.secretHash.byteLength !== 32) return false;
  return timingSafeEqual(hashSecret(secret), client.secretHash);
}

/** The client as shown to people: everything but the secret hash. */
export function clientView(client: ClientRecord): ClientView {
  return {
    client_id: client.id,
    name: client.name,
    public: client.secretHash === null,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    redirect_uris: client.redirectUris,
    audiences: client.audiences,
    created_at: client.createdAt,
  };
}

function field(message: string, name: string): AppError {
  return new AppError("invalid_field", message, { field: name });
}

function strings(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === "string")) throw field(`"${name}" must be a list of strings`, name);
  return [...new Set(list as string[])];
}

function redirectUri(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw field(`Redirect URI "${value.slice(0, 80)}" is not an absolute URI`, "redirect_uris");
  }
  // RFC 6749 §3.1.2: absolute, no fragment. Plain http only for loopback (RFC 8252 §7.3).
  const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname);
  if (value.includes("#") || (url.protocol === "http:" && !loopback) || url.protocol === "javascript:") {
    throw field(
      `Redirect URI "${value.slice(0, 80)}" must use https (or http on loopback), no fragment`,
      "redirect_uris",
    );
  }
  return value;
}

/** Checks `input` and turns it into the lists a client record holds. Throws `invalid_field`. */
export function validateClient(input: ClientInput): Omit<ClientRecord, "id" | "secretHash" | "createdAt"> & {
  isPublic: boolean;
} {
  if (typeof input.name !== "string" || input.name.trim() === "" || input.name.length > MAX_NAME) {
    throw field(`Client name must be 1 to ${MAX_NAME} characters`, "name");
  }
  if (input.public !== undefined && typeof input.public !== "boolean") {
    throw field('"public" must be true or false', "public");
  }
  const isPublic = input.public === true;
  const given = strings(input.grantTypes, "grant_types");
  const grantTypes = given.length > 0 ? given : isPublic ? ["password", "refresh_token"] : ["client_credentials"];
  for (const grant of grantTypes) {
    if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
      throw field(`Grant type "${grant.slice(0, 40)}" is not one of ${GRANT_TYPES.join(", ")}`, "grant_types");
    }
  }
  if (isPublic && grantTypes.includes("client_credentials")) {
    throw field("A public client cannot use client_credentials (it has no secret)", "grant_types");
  }
  const scopes = strings(input.scopes, "scopes").flatMap((scope) => {
    try {
      return parseScope(scope) ?? [];
    } catch (error) {
      throw field(error instanceof Error ? error.message : "Invalid scope", "scopes");
    }
  });
  if (scopes.length > MAX_SCOPES) throw field(`A client has at most ${MAX_SCOPES} scopes`, "scopes");
  const redirectUris = strings(input.redirectUris, "redirect_uris").map(redirectUri);
  if (redirectUris.length > MAX_REDIRECT_URIS) {
    throw field(`A client has at most ${MAX_REDIRECT_URIS} redirect URIs`, "redirect_uris");
  }
  if (grantTypes.includes("authorization_code") && redirectUris.length === 0) {
    throw field("A client of authorization_code needs at least one redirect URI", "redirect_uris");
  }
  const audiences = strings(input.audiences, "audiences").map((audience) => {
    try {
      return checkAudience(audience);
    } catch (error) {
      throw field(error instanceof Error ? error.message : "Invalid audience", "audiences");
    }
  });
  if (audiences.length > MAX_AUDIENCES) throw field(`A client has at most ${MAX_AUDIENCES} audiences`, "audiences");
  return { name: input.name.trim(), grantTypes, scopes: [...new Set(scopes)], redirectUris, audiences, isPublic };
}

function random(bytes: number): string {
  return crypto.getRandomValues(new Uint8Array(bytes)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** A fresh `client_id`: 128 random bits, never starting with "-" or "_" (it is typed in argv). */
function clientId(): string {
  for (;;) {
    const id = random(16);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** Registers, lists and removes clients. */
export class ClientService {
  #store: OAuthStore;

  constructor(store: OAuthStore) {
    this.#store = store;
  }

  /** Registers a client at `now` (unix seconds); returns its secret, shown this once. */
  async register(input: ClientInput, now: number): Promise<RegisteredClient> {
    const { isPublic, ...checked } = validateClient(input);
    const secret = isPublic ? null : random(32);
    const client: ClientRecord = Object.freeze({
      id: clientId(),
      ...checked,
      secretHash: secret === null ? null : hashSecret(secret),
      createdAt: now,
    });
    await this.#store.createClient(client);
    return { client, secret };
  }

  find(id: string): Promise<ClientRecord | null> {
    return this.#store.findClient(id);
  }

  list(): Promise<ClientRecord[]> {
    return this.#store.listClients();
  }

  /** Removes client `id` at `now` and revokes its refresh tokens. Throws `not_found`. */
  async remove(id: string, now: number): Promise<void> {
    if (!await this.#store.removeClient(id, now)) throw new AppError("not_found", `No client "${id.slice(0, 64)}"`);
  }
}
