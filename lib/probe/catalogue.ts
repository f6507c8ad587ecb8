/**
 * The forged-token catalogue: a control token a correct verifier must accept, then every case
 * of `cases.ts`, `cases_signature.ts` and `cases_keys.ts`, built from the inputs passed in: the
 * server's keys, the attacker's keys and URLs, issuer, audience and `now`. Cases that need
 * something absent (a revoked key, an audience) come back as skipped with the reason, never
 * silently dropped. No clock and no network: the runner and the route do the I/O.
 * @module
 */
import type { Signer } from "../core/signer.ts";
import { forge } from "./jws.ts";
import { type AttackerKeys, attackerUrls, type ForeignKey } from "./attacker.ts";
import type { ProbeKeys, ProbeSigner } from "./keys.ts";
import {
  type CaseContext,
  type CaseSpec,
  type Catalogue,
  CLAIM_CASES,
  CONTROL,
  type ProbeCase,
  type SkippedCase,
  TOKEN_LIFETIME,
} from "./cases.ts";
import { SIGNATURE_CASES } from "./cases_signature.ts";
import { KEY_CASES } from "./cases_keys.ts";

/** Inputs of {@linkcode buildCatalogue}. */
export interface CaseInputs {
  readonly keys: ProbeKeys;
  readonly attacker: AttackerKeys;
  /** Where the attacker's site is served (`jku`, `x5u`, the rival issuer point under it). */
  readonly attackerBase: string;
  /** The `iss` the target expects. */
  readonly issuer: string;
  /** The `aud` the target expects; null or absent skips the audience cases. */
  readonly audience?: string | null;
  /** Unix seconds. */
  readonly now: number;
}

/** Every case, in the order they are sent. */
export const CASES: readonly CaseSpec[] = Object.freeze([...CLAIM_CASES, ...SIGNATURE_CASES, ...KEY_CASES]);

function signerOf(key: ProbeSigner | ForeignKey): { kid: string; alg: string; key: CryptoKey | Signer } {
  return "privateKey" in key ? { kid: key.kid, alg: key.alg, key: key.privateKey } : key;
}

/** Builds the control and every case of {@linkcode CASES} from `inputs`. */
export async function buildCatalogue(inputs: CaseInputs): Promise<Catalogue> {
  const { keys, attacker, issuer, now } = inputs;
  const audience = inputs.audience ?? null;
  const base: Record<string, unknown> = {
    iss: issuer,
    sub: "jwks-server-probe",
    ...(audience === null ? {} : { aud: audience }),
    iat: now,
    exp: now + TOKEN_LIFETIME,
  };
  const claims = (changes: Readonly<Record<string, unknown>> = {}) => {
    const out: Record<string, unknown> = { ...base, jti: crypto.randomUUID() };
    for (const [name, value] of Object.entries(changes)) {
      if (value === undefined) delete out[name];
      else out[name] = value;
    }
    return out;
  };
  const header = (key: ProbeSigner | ForeignKey = keys.active) => ({ alg: key.alg, kid: key.kid, typ: "JWT" });
  const sign: CaseContext["sign"] = async (payload, options = {}) => {
    const signer = signerOf(options.key ?? keys.active);
    const protectedHeader = options.header ?? { alg: signer.alg, kid: signer.kid, typ: "JWT" };
    return await forge(protectedHeader, { ...payload }, { key: signer.key });
  };
  const control = await sign(claims());
  const ctx: CaseContext = {
    keys,
    attacker,
    urls: attackerUrls(inputs.attackerBase),
    issuer,
    audience,
    now,
    control,
    claims,
    header,
    sign,
  };
  const cases: ProbeCase[] = [];
  const skipped: SkippedCase[] = [];
  for (const spec of CASES) {
    const { id, description, ref } = spec;
    const built = await spec.build(ctx);
    if (typeof built === "string") cases.push({ id, description, ref, token: built, expect: "reject" });
    else if ("skip" in built) skipped.push({ id, description, ref, reason: built.skip });
    else cases.push({ id, description, ref, token: built.token, expect: "reject", note: built.note });
  }
  return { control: { ...CONTROL, id: "control", token: control, expect: "accept" }, cases, skipped };
}
