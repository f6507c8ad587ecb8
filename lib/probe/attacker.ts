/**
 * The attacker's side of the probe: key pairs the server never saw (one for "attacker" tokens,
 * one for a rival issuer), a self-signed certificate for the first, the URLs the forged headers
 * point at, and the tiny site that serves them and records every fetch. Serving it on a socket
 * is the runner's job; this module only answers `Request`s.
 * @module
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import type { Alg } from "../core/key_material.ts";
import { certificatePem, selfSignedCertificate } from "./x509.ts";

/** A key pair the server does not know. */
export interface ForeignKey {
  readonly alg: Alg;
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** Public JWK with `kid`, `alg` and `use`. */
  readonly publicJwk: JWK;
}

/** Everything the attacker holds. */
export interface AttackerKeys {
  /** Signs the jku, x5u, x5c, jwk and unknown-key cases. */
  readonly attacker: ForeignKey;
  /** The key of a rival issuer whose own key set is served too. */
  readonly rival: ForeignKey;
  /** Self-signed DER certificate of the attacker's public key. */
  readonly certificate: Uint8Array<ArrayBuffer>;
}

async function foreignKey(alg: Alg): Promise<{ key: ForeignKey; publicKey: CryptoKey; privateJwk: JWK }> {
  // jose types its keys as node:crypto's CryptoKey once @types/node is loaded; they are WebCrypto keys.
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true }) as unknown as CryptoKeyPair;
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, "sha256");
  return {
    key: { alg, kid, privateKey, publicJwk: { ...jwk, kid, alg, use: "sig" } },
    publicKey,
    privateJwk: await exportJWK(privateKey),
  };
}

/** The WebCrypto parameters that sign a certificate with a key of `alg`. */
function certificateAlgorithm(alg: Alg): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  if (alg === "ES256") return { name: "ECDSA", namedCurve: "P-256" };
  if (alg === "EdDSA") return { name: "Ed25519" };
  return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

/**
 * Generates the attacker's keys for `alg` (the algorithm the target expects, so a verifier that
 * pins it still has to look at the forged key) and a certificate valid from `now` (unix seconds).
 */
export async function makeAttackerKeys(alg: Alg, now: number): Promise<AttackerKeys> {
  const [attacker, rival] = await Promise.all([foreignKey(alg), foreignKey(alg)]);
  // A PS256 key cannot sign an X.509 certificate as sha256WithRSAEncryption; re-import it for that.
  const certKey = await crypto.subtle.importKey("jwk", attacker.privateJwk, certificateAlgorithm(alg), false, ["sign"]);
  const certificate = await selfSignedCertificate(attacker.publicKey, certKey, {
    notBefore: now - 60,
    commonName: "jwks-server probe attacker",
  });
  return { attacker: attacker.key, rival: rival.key, certificate };
}

/** The URLs forged headers point at, each under a path naming its case. */
export interface AttackerUrls {
  /** A JWKS holding the attacker's key (`jku`). */
  readonly jku: string;
  /** The attacker's certificate, PEM (`x5u`). */
  readonly x5u: string;
  /** A `kid` that is a URL returning the attacker's JWK. */
  readonly kid: string;
  /** The rival issuer (`iss`), with its discovery document and JWKS under it. */
  readonly rivalIssuer: string;
}

/** The attacker URLs under `base` (no trailing slash needed). */
export function attackerUrls(base: string): AttackerUrls {
  const root = base.replace(/\/+$/, "");
  return {
    jku: `${root}/jku-attacker-url/jwks.json`,
    x5u: `${root}/x5u-attacker-url/cert.pem`,
    kid: `${root}/kid-url/key.json`,
    rivalIssuer: `${root}/other-issuer`,
  };
}

/** One request the attacker site answered. */
export interface AttackerFetch {
  /** The case whose URL was fetched (the first path segment). */
  readonly caseId: string;
  readonly path: string;
}

function jsonResponse(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

/**
 * The attacker's site for `keys` served at `base`: answers the URLs of {@linkcode attackerUrls}
 * (and the rival issuer's discovery document) and reports every request to `onFetch`.
 */
export function attackerSite(
  keys: AttackerKeys,
  base: string,
  onFetch: (fetch: AttackerFetch) => void,
): (request: Request) => Response {
  const urls = attackerUrls(base);
  const pathOf = (url: string) => new URL(url).pathname;
  const routes = new Map<string, () => Response>([
    [pathOf(urls.jku), () => jsonResponse({ keys: [keys.attacker.publicJwk] })],
    [
      pathOf(urls.x5u),
      () => new Response(certificatePem(keys.certificate), { headers: { "content-type": "application/x-pem-file" } }),
    ],
    [pathOf(urls.kid), () => jsonResponse(keys.attacker.publicJwk)],
    [`${pathOf(urls.rivalIssuer)}/.well-known/openid-configuration`, () =>
      jsonResponse({
        issuer: urls.rivalIssuer,
        jwks_uri: `${urls.rivalIssuer}/jwks.json`,
        id_token_signing_alg_values_supported: [keys.rival.alg],
      })],
    [`${pathOf(urls.rivalIssuer)}/jwks.json`, () => jsonResponse({ keys: [keys.rival.publicJwk] })],
  ]);
  return (request) => {
    const path = new URL(request.url).pathname;
    onFetch({ caseId: path.split("/")[1] ?? "", path });
    return routes.get(path)?.() ?? new Response("Not found", { status: 404 });
  };
}
