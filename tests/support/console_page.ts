/**
 * A console page to test against: a schedule of one retired, one active and one next key (the
 * schedule is all the page reads, so no key material), rendered by `consolePage()` in the mode
 * asked for. Shared by the tests of the page, its script and its stylesheet.
 * @module
 */
import { consolePage, type PageOptions } from "../../lib/console/page.ts";
import { type KeySchedule, keySchedule } from "../../lib/console/schedule.ts";
import type { KeyRecord } from "../../lib/core/key_lifecycle.ts";

/** Unix seconds of the page's "now". */
export const NOW = 1_800_000_000;

function record(id: number, kid: string, times: Partial<KeyRecord>): KeyRecord {
  return {
    id,
    blob: new Uint8Array([1]),
    kid,
    alg: "ES256",
    publicJwk: { kty: "EC", kid, use: "sig", alg: "ES256", crv: "P-256", x: "x", y: "y" },
    createdAt: NOW - 100,
    activatesAt: NOW,
    retiresAt: NOW + 1000,
    exp: NOW + 1300,
    revokedAt: null,
    ...times,
  };
}

const RECORDS = [
  record(1, "old-kid", { createdAt: NOW - 2000, activatesAt: NOW - 1900, retiresAt: NOW - 100, exp: NOW + 200 }),
  record(2, "cur-kid", { createdAt: NOW - 2000, activatesAt: NOW - 100, retiresAt: NOW + 900, exp: NOW + 1200 }),
  record(3, "new-kid", { createdAt: NOW - 50, activatesAt: NOW + 900, retiresAt: NOW + 1900, exp: NOW + 2200 }),
];

/** The schedule of the three keys at {@linkcode NOW}. */
export function threeKeySchedule(): KeySchedule {
  return keySchedule(RECORDS.map(({ kid }) => ({ kid })), RECORDS, NOW);
}

/** The page's options; `overrides` replace any of them. */
export function pageOptions(overrides: Partial<PageOptions> = {}): PageOptions {
  return {
    issuer: "http://127.0.0.1:8080",
    authMode: "open",
    endpoints: [["JWKS", "http://127.0.0.1:8080/.well-known/jwks.json"], ["Token", "http://127.0.0.1:8080/token"]],
    schedule: threeKeySchedule(),
    now: NOW,
    assets: { css: "/console/console.css?v=1", js: "/console/console.js?v=1" },
    pollMs: 2000,
    ...overrides,
  };
}

/** The rendered page in `authMode`. */
export function renderedPage(authMode: PageOptions["authMode"] = "open"): string {
  return consolePage(pageOptions({ authMode }));
}
