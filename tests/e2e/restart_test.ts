import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { call, canonicalJwk, spawnServer, waitListening } from "../../torture/harness.ts";
import { body, testApp, testClock } from "../support/helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "restarts, even with a new algorithm, interval or token lifetime, keep every kid's key and every token valid",
  ...opts,
  async fn() {
    const cwd = await Deno.makeTempDir();
    const env = { NOT_MY_KEY: "restart test master secret, 32 by" };
    const tokens: string[] = [];
    const published = new Map<string, string>();
    const configs = [
      [],
      ["--alg", "ES256"],
      ["--rotate-every", "60s", "--token-ttl", "60s"],
      ["--alg", "EdDSA", "--rotate-every", "2h"],
      [],
    ];
    try {
      for (const [i, flags] of configs.entries()) {
        const server = spawnServer({ cwd, env, args: ["--auth", "open", ...flags] });
        try {
          const url = await waitListening(server);
          const outcome = await call(`${url}/.well-known/jwks.json`);
          assert.ok(outcome.ok && outcome.status === 200);
          const set = JSON.parse(outcome.text) as JSONWebKeySet;
          const now = Math.floor(Date.now() / 1000);
          for (const key of set.keys) {
            const known = published.get(String(key.kid));
            assert.ok(
              known === undefined || known === canonicalJwk(key as Record<string, unknown>),
              `kid ${key.kid} kept its key`,
            );
            published.set(String(key.kid), canonicalJwk(key as Record<string, unknown>));
          }
          const jwks = createLocalJWKSet(set);
          for (const token of tokens) {
            if (decodeJwt(token).exp! <= now) continue;
            await jwtVerify(token, jwks).catch((error) => {
              assert.fail(
                `start ${i} (${flags.join(" ") || "defaults"}): a token signed by ${
                  decodeProtectedHeader(token).kid
                } fails: ${error}`,
              );
            });
          }
          const issued = await call(`${url}/auth`, { method: "POST" });
          assert.ok(issued.ok && issued.status === 200);
          tokens.push(JSON.parse(issued.text).token);
        } finally {
          assert.equal(await server.stop(), 0);
        }
      }
      assert.equal(tokens.length, configs.length);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test("a restart with a shorter token lifetime keeps each key published until the tokens it signed expire", async () => {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/restart.db`;
  const clock = testClock();
  const before = await testApp({ db, "rotate-every": "60s", "token-ttl": "15m" }, { clock });
  clock.advance(30_000);
  const token = (await body<{ token: string }>(await before.fetch("/auth", { method: "POST" }))).token;
  const { exp } = decodeJwt(token);
  const { kid } = decodeProtectedHeader(token);
  await before.close();

  const after = await testApp({ db, "rotate-every": "60s", "token-ttl": "60s" }, { clock });
  try {
    assert.equal((await after.keys.apply()).changed, false, "the schedule the restart settled on is stable");
    // Run the minute ticks until the token expires: its key must stay in the JWKS all along.
    while (clock() / 1000 < exp! - 1) {
      clock.advance(Math.min(60_000, exp! * 1000 - 1000 - clock()));
      await after.rotate();
      const set = await body<JSONWebKeySet>(await after.fetch("/.well-known/jwks.json"));
      assert.ok(
        set.keys.some((key) => key.kid === kid),
        `${exp! - Math.floor(clock() / 1000)} s before the token expires its key ${kid} is no longer published`,
      );
    }
    await jwtVerify(token, createLocalJWKSet(await body<JSONWebKeySet>(await after.fetch("/jwks"))), {
      currentDate: new Date(clock()),
    });
  } finally {
    await after.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refresh() publishes a successor as soon as the next key starts signing, without waiting for the cron minute", async () => {
  const clock = testClock();
  const app = await testApp({ "rotate-every": "60s" }, { clock });
  try {
    const first = app.keys.view();
    assert.ok(first.next !== null);
    clock.set(first.next.activatesAt * 1000);
    assert.equal(app.keys.view().next, null, "the next key signs now and nothing is next");
    assert.equal((await app.fetch("/readyz")).status, 503);
    await app.refresh();
    const view = app.keys.view();
    assert.ok(view.next !== null, "a successor is published at the next tick");
    assert.ok(view.next.activatesAt - view.next.publishedAt >= app.config.policy.lead, "a full lead time ahead");
    assert.equal((await app.fetch("/readyz")).status, 200);
    assert.equal(view.active?.kid, first.next.kid);
  } finally {
    await app.close();
  }
});
