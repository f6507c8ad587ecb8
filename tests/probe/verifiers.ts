/**
 * Verifiers for the probe's tests: APIs that answer 200 to a bearer token they accept and 401
 * otherwise. One is jose's `jwtVerify` with a remote key set (strict, or with jose's defaults);
 * the other is hand-written, correct unless given one flaw from the list real verifiers had.
 * Also the issuer they trust: a test app served on 127.0.0.1 so the key set is fetched over HTTP.
 * @module
 */
import { createHmac, createPublicKey, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, type JWK, jwtVerify } from "jose";
import type { Alg } from "../../lib/core/key_material.ts";
import { type TestApp, testApp } from "../support/helpers.ts";
import { psychicVerify } from "./psychic_ecdsa.ts";

/** A flaw of the hand-written verifier. */
export type Flaw =
  | "accepts-alg-none"
  | "public-key-as-hmac-secret"
  | "trusts-embedded-jwk"
  | "follows-jku"
  | "skips-exp"
  | "skips-aud"
  | "accepts-psychic-ecdsa";

/** What a verifier checks. */
export interface VerifierOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly alg: Alg;
  /** Unix milliseconds now. */
  readonly clock: () => number;
}

/** A verifier listening on 127.0.0.1. */
export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1, an ephemeral port. */
export function serve(
  handler: (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>,
) {
  return new Promise<Served>((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => resolve({ url: `http://127.0.0.1:${port}`, close: () => server.shutdown() }),
    }, handler);
  });
}

/** A test app for `alg`, with its handler served on a socket and a revoked key in its database. */
export async function servedIssuer(alg: Alg): Promise<{ app: TestApp; jwksUrl: string; close(): Promise<void> }> {
  const app = await testApp({ alg });
  await app.keys.apply({ kind: "revoke", kid: app.keys.view().next!.kid });
  const served = await serve((request, info) => app.handle(request, info));
  return {
    app,
    jwksUrl: `${served.url}/.well-known/jwks.json`,
    async close() {
      await served.close();
      await app.close();
    },
  };
}

function unauthorized(reason: string): Response {
  return Response.json({ error: "invalid_token", error_description: reason }, {
    status: 401,
    headers: { "www-authenticate": `Bearer error="invalid_token"` },
  });
}

function bearer(request: Request): string | null {
  const match = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
  return match === null ? null : match[1]!;
}

/**
 * jose's `jwtVerify` with `createRemoteJWKSet`. `strict`: the algorithm pinned, `exp` required
 * and `iat` bounded by `maxTokenAge`; otherwise only issuer and audience, as most examples show.
 */
export function joseVerifier(options: VerifierOptions & { strict: boolean }) {
  const keySet = createRemoteJWKSet(new URL(options.jwksUrl));
  return async (request: Request): Promise<Response> => {
    const token = bearer(request);
    if (token === null) return unauthorized("no bearer token");
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: options.issuer,
        audience: options.audience,
        currentDate: new Date(options.clock()),
        clockTolerance: 60,
        ...(options.strict ? { algorithms: [options.alg], requiredClaims: ["exp"], maxTokenAge: "1h" } : {}),
      });
      return Response.json({ sub: payload.sub });
    } catch (error) {
      return unauthorized(error instanceof Error ? error.message : "invalid token");
    }
  };
}

const decoder = new TextDecoder();

function bytes(segment: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(segment.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
}

const WEBCRYPTO: Readonly<
  Record<
    string,
    { import: RsaHashedImportParams | EcKeyImportParams | Algorithm; verify: Algorithm | RsaPssParams | EcdsaParams }
  >
> = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
  PS256: { import: { name: "RSA-PSS", hash: "SHA-256" }, verify: { name: "RSA-PSS", saltLength: 32 } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } },
  EdDSA: { import: { name: "Ed25519" }, verify: { name: "Ed25519" } },
};

async function webcryptoVerify(
  alg: string,
  jwk: JWK,
  signature: Uint8Array<ArrayBuffer>,
  input: Uint8Array<ArrayBuffer>,
) {
  const params = WEBCRYPTO[alg];
  if (params === undefined) return false;
  try {
    const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ...clean } = jwk;
    const key = await crypto.subtle.importKey("jwk", clean as JsonWebKey, params.import, false, ["verify"]);
    return await crypto.subtle.verify(params.verify, key, signature, input);
  } catch {
    return false;
  }
}

function audienceMatches(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}

/**
 * A hand-written verifier: pinned algorithm, key by `kid` from the JWKS (the key's `alg` must
 * match), no `crit` extension understood, then iss, aud, exp (required), nbf and iat with 60 s
 * of skew. `flaw` breaks exactly one of those rules the way real verifiers broke it.
 */
export function handVerifier(options: VerifierOptions & { flaw?: Flaw }) {
  const { flaw } = options;
  const keysByKid = async (): Promise<JWK[]> => (await (await fetch(options.jwksUrl)).json()).keys;

  async function signatureValid(token: string): Promise<Record<string, unknown> | string> {
    const parts = token.split(".");
    if (parts.length !== 3) return "not a compact JWS";
    const [h, p, s] = parts as [string, string, string];
    const header = JSON.parse(decoder.decode(bytes(h)));
    const payload = JSON.parse(decoder.decode(bytes(p)));
    const signature = bytes(s);
    const input = new TextEncoder().encode(`${h}.${p}`);
    const alg = header.alg;
    if (typeof alg !== "string") return "no alg";
    if (header.crit !== undefined) return "unsupported crit";
    const known = async () => (await keysByKid()).find((key) => key.kid === header.kid);
    if (flaw === "accepts-alg-none" && alg.toLowerCase() === "none") return payload;
    if (flaw === "public-key-as-hmac-secret" && /^HS(256|384|512)$/.test(alg)) {
      const jwk = await known();
      if (jwk === undefined) return "unknown kid";
      const pem = createPublicKey({ key: jwk as Record<string, string>, format: "jwk" })
        .export({ type: "spki", format: "pem" });
      const mac = createHmac(`sha${alg.slice(2)}`, pem).update(input).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature) ? payload : "bad signature";
    }
    if (flaw === "trusts-embedded-jwk" && header.jwk !== undefined) {
      return await webcryptoVerify(alg, header.jwk, signature, input) ? payload : "bad signature";
    }
    if (flaw === "follows-jku" && typeof header.jku === "string") {
      const set: { keys: JWK[] } = await (await fetch(header.jku)).json();
      const jwk = set.keys.find((key) => key.kid === header.kid);
      return jwk !== undefined && await webcryptoVerify(alg, jwk, signature, input) ? payload : "bad signature";
    }
    if (alg !== options.alg) return `alg "${alg}" not allowed`;
    const jwk = await known();
    if (jwk === undefined || jwk.alg !== alg) return "unknown kid";
    const valid = flaw === "accepts-psychic-ecdsa" && alg === "ES256"
      ? await psychicVerify(jwk, signature, input)
      : await webcryptoVerify(alg, jwk, signature, input);
    return valid ? payload : "bad signature";
  }

  return async (request: Request): Promise<Response> => {
    const token = bearer(request);
    if (token === null) return unauthorized("no bearer token");
    let claims: Record<string, unknown> | string;
    try {
      claims = await signatureValid(token);
    } catch {
      claims = "malformed token";
    }
    if (typeof claims === "string") return unauthorized(claims);
    const now = options.clock() / 1000;
    const { iss, aud, exp, nbf, iat } = claims;
    if (iss !== options.issuer) return unauthorized("wrong iss");
    if (flaw !== "skips-aud" && !audienceMatches(aud, options.audience)) return unauthorized("wrong aud");
    if (flaw !== "skips-exp" && (typeof exp !== "number" || exp <= now - 60)) return unauthorized("expired");
    if (nbf !== undefined && (typeof nbf !== "number" || nbf > now + 60)) return unauthorized("not yet valid");
    if (typeof iat !== "number" || iat > now + 60) return unauthorized("issued in the future");
    return Response.json({ sub: claims.sub });
  };
}
