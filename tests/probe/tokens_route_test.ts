/**
 * `GET /probe/tokens`: the same cases as JSON from the live key view, open mode only, never
 * cached, with issuer and audience overridable per request and the attacker keys made once.
 * @module
 */
import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import { hasCode } from "../../lib/core/errors.ts";
import type { Alg } from "../../lib/core/key_material.ts";
import { type AttackerKeys, makeAttackerKeys } from "../../lib/probe/attacker.ts";
import { CASES } from "../../lib/probe/catalogue.ts";
import { decodeParts } from "../../lib/probe/jws.ts";
import { probeTokensHandler, type ProbeTokensOptions } from "../../lib/probe/tokens_route.ts";
import { testApp } from "../support/helpers.ts";

const URL_BASE = "http://127.0.0.1:8080/probe/tokens";

Deno.test("GET /probe/tokens hands out the control and every case as JSON, not cached", async () => {
  const app = await testApp({ alg: "ES256" });
  try {
    let made = 0;
    const options: ProbeTokensOptions = {
      keys: app.keys,
      authMode: "open",
      issuer: app.config.issuer,
      audience: "my-api",
      attackerKeys: (alg: Alg, now: number): Promise<AttackerKeys> => {
        made++;
        return makeAttackerKeys(alg, now);
      },
    };
    const handler = probeTokensHandler(options);
    const response = await handler(new Request(URL_BASE));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("content-type"), "application/json");
    const body = await response.json();
    assert.equal(body.issuer, app.config.issuer);
    assert.equal(body.audience, "my-api");
    assert.equal(body.now, app.keys.now());
    assert.equal(body.control.id, "control");
    assert.equal(body.control.expect, "accept");
    const jwks = JSON.parse(new TextDecoder().decode(app.keys.view().jwks.body));
    await jwtVerify(body.control.token, createLocalJWKSet(jwks), {
      issuer: app.config.issuer,
      audience: "my-api",
      currentDate: new Date(app.clock()),
    });
    const ids = [...body.cases, ...body.skipped].map((c: { id: string }) => c.id).sort();
    assert.deepEqual(ids, CASES.map((spec) => spec.id).sort());
    for (const c of body.cases) {
      assert.deepEqual(Object.keys(c).sort(), ["description", "expect", "id", "ref", "token"]);
      assert.equal(c.expect, "reject");
    }
    const skipped = Object.fromEntries(body.skipped.map((s: { id: string; reason: string }) => [s.id, s.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), ["revoked-key", "rs256-ps256-switch"]);
    const jku = body.cases.find((c: { id: string }) => c.id === "jku-attacker-url");
    assert.equal(decodeParts(jku.token).header.jku, "https://attacker.invalid/jku-attacker-url/jwks.json");

    await handler(new Request(URL_BASE));
    assert.equal(made, 1, "the attacker keys are made once");
    app.clock.advance(13 * 3600 * 1000);
    await app.refresh();
    await handler(new Request(URL_BASE));
    assert.equal(made, 2, "and renewed after half a day");
  } finally {
    await app.close();
  }
});

Deno.test("?issuer= and ?audience= shape the tokens; an empty audience drops aud", async () => {
  const app = await testApp();
  try {
    const handler = probeTokensHandler({ keys: app.keys, authMode: "open", issuer: app.config.issuer, audience: null });
    const custom = await (await handler(new Request(`${URL_BASE}?issuer=https%3A%2F%2Fidp.test&audience=api-1`)))
      .json();
    assert.equal(decodeParts(custom.control.token).payload.iss, "https://idp.test");
    assert.equal(decodeParts(custom.control.token).payload.aud, "api-1");
    const none = await (await handler(new Request(`${URL_BASE}?audience=`))).json();
    assert.equal(none.audience, null);
    assert.ok(none.skipped.some((s: { id: string }) => s.id === "aud-wrong"));
    await assert.rejects(
      handler(new Request(`${URL_BASE}?audience=${"a".repeat(513)}`)),
      (error) => hasCode(error, "invalid_field") && error.field === "audience",
    );
  } finally {
    await app.close();
  }
});

Deno.test("outside open mode the route does not exist", async () => {
  const app = await testApp({ auth: "password" });
  try {
    const handler = probeTokensHandler({
      keys: app.keys,
      authMode: "password",
      issuer: app.config.issuer,
      audience: null,
    });
    await assert.rejects(handler(new Request(URL_BASE)), (error) => hasCode(error, "not_found"));
  } finally {
    await app.close();
  }
});
