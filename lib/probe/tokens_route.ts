/**
 * `GET /probe/tokens` (open mode only): the probe's forged tokens as JSON, so a test suite in
 * any language can loop over them without the CLI. Built per request from the live key view;
 * the attacker's keys are made once (per algorithm, renewed daily) and its URLs point at a
 * reserved name that never resolves. A plain `(Request) => Promise<Response>`: the router
 * mounts it and maps the `AppError`s it throws.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { Alg } from "../core/key_material.ts";
import type { KeyView } from "../core/key_ring.ts";
import { type AttackerKeys, makeAttackerKeys } from "./attacker.ts";
import { buildCatalogue } from "./catalogue.ts";
import { probeKeysFromView } from "./keys.ts";

/** Where the route's `jku`/`x5u` URLs point: `.invalid` never resolves (RFC 6761). */
export const UNRESOLVABLE_ATTACKER = "https://attacker.invalid";
/** Longest `issuer`/`audience` query value accepted. */
const MAX_QUERY_VALUE = 512;
/** Attacker keys (and their one-day certificate) are renewed after this many seconds. */
const ATTACKER_KEY_LIFE = 12 * 3600;

/** Options of {@linkcode probeTokensHandler}. */
export interface ProbeTokensOptions {
  /** The live key set (a `KeyManager`). */
  readonly keys: { view(): KeyView; now(): number };
  /** Anything but "open" answers 404, as if the route did not exist. */
  readonly authMode: "open" | "password";
  /** Default `iss` of the tokens (the server's issuer); `?issuer=` overrides it. */
  readonly issuer: string;
  /** Default `aud`; `?audience=` overrides it, `?audience=` empty drops it. */
  readonly audience: string | null;
  /** Base of the attacker URLs. Default {@linkcode UNRESOLVABLE_ATTACKER}. */
  readonly attackerBase?: string;
  /** Makes the attacker's keys; fresh ones by default. */
  readonly attackerKeys?: (alg: Alg, now: number) => Promise<AttackerKeys>;
}

function queryValue(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (value.length > MAX_QUERY_VALUE) {
    throw new AppError("invalid_field", `The ${name} parameter is longer than ${MAX_QUERY_VALUE} characters`, {
      field: name,
    });
  }
  return value;
}

/**
 * Makes the `GET /probe/tokens` handler. Answers `{issuer, audience, now, control, cases,
 * skipped}` with `Cache-Control: no-store`; throws `not_found` outside open mode and
 * `no_signing_key` while no key signs.
 */
export function probeTokensHandler(options: ProbeTokensOptions): (request: Request) => Promise<Response> {
  const attackerBase = options.attackerBase ?? UNRESOLVABLE_ATTACKER;
  const make = options.attackerKeys ?? makeAttackerKeys;
  const cache = new Map<Alg, { made: number; keys: Promise<AttackerKeys> }>();
  const attackerFor = (alg: Alg, now: number): Promise<AttackerKeys> => {
    const cached = cache.get(alg);
    if (cached !== undefined && now - cached.made < ATTACKER_KEY_LIFE) return cached.keys;
    const keys = make(alg, now);
    cache.set(alg, { made: now, keys });
    keys.catch(() => cache.delete(alg));
    return keys;
  };

  return async (request) => {
    if (options.authMode !== "open") throw new AppError("not_found", "No such endpoint");
    const params = new URL(request.url).searchParams;
    const issuer = queryValue(params, "issuer") ?? options.issuer;
    const audienceParam = queryValue(params, "audience");
    const audience = audienceParam === undefined ? options.audience : audienceParam === "" ? null : audienceParam;
    const now = options.keys.now();
    const keys = probeKeysFromView(options.keys.view());
    const catalogue = await buildCatalogue({
      keys,
      attacker: await attackerFor(keys.active.alg, now),
      attackerBase,
      issuer,
      audience,
      now,
    });
    const body = { issuer, audience, now, ...catalogue };
    return new Response(JSON.stringify(body), {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  };
}
