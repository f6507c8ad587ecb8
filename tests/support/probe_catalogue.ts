/**
 * Fixtures of the probe catalogue tests (`tests/probe/cases*_test.ts`, `catalogue_test.ts`):
 * a server's real keys as the probe opens them, one attacker key set per algorithm, and the
 * catalogue built from them at a given time, with lookups of one built case.
 * @module
 */
import assert from "node:assert/strict";
import type { Alg } from "../../lib/core/key_material.ts";
import { createSealer } from "../../lib/core/seal.ts";
import { type AttackerKeys, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import type { Catalogue } from "../../lib/probe/cases.ts";
import { buildCatalogue } from "../../lib/probe/catalogue.ts";
import { decodeParts } from "../../lib/probe/jws.ts";
import { type ProbeKeys, probeKeysFromRecords } from "../../lib/probe/keys.ts";
import { testApp } from "./helpers.ts";

const SECRET = "test master secret, not for production";
/** Where the attacker's URLs point. */
export const BASE = "http://127.0.0.1:9";
/** The issuer the catalogue is built for. */
export const ISSUER = "http://127.0.0.1:8080";

/** A server's keys for `alg` (its next key revoked with `revoke`), the time, and its JWKS. */
export async function setup(alg: Alg, options: { revoke?: boolean } = {}) {
  const app = await testApp({ alg });
  if (options.revoke) await app.keys.apply({ kind: "revoke", kid: app.keys.view().next!.kid });
  const now = app.keys.now();
  const keys = await probeKeysFromRecords(await app.store.listKeys(), createSealer(SECRET), now);
  const jwks = JSON.parse(new TextDecoder().decode(app.keys.view().jwks.body));
  await app.close();
  return { keys, now, jwks };
}

const attackers = new Map<Alg, Promise<AttackerKeys>>();
function attackerFor(alg: Alg, now: number): Promise<AttackerKeys> {
  if (!attackers.has(alg)) attackers.set(alg, makeAttackerKeys(alg, now));
  return attackers.get(alg)!;
}

/** The catalogue for `keys` at `now`, for audience `my-api` unless told. */
export async function catalogue(keys: ProbeKeys, now: number, audience: string | null = "my-api"): Promise<Catalogue> {
  return await buildCatalogue({
    keys,
    attacker: await attackerFor(keys.active.alg, now),
    attackerBase: BASE,
    issuer: ISSUER,
    audience,
    now,
  });
}

/** The catalogue of an RS256 server with an expired and a revoked key, with lookups by case id. */
export async function rs256Catalogue() {
  const { keys, now } = await setup("RS256", { revoke: true });
  const built = await catalogue(keys, now);
  const token = (id: string) => {
    const found = built.cases.find((c) => c.id === id);
    assert.ok(found, `case ${id} was built`);
    return found.token;
  };
  return { keys, now, built, token, parts: (id: string) => decodeParts(token(id)) };
}
