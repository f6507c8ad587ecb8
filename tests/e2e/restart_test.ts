import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { call, canonicalJwk } from "../../torture/harness.ts";
import { withTempDir } from "../support/helpers.ts";
import { scenario, spawnServer, waitListening } from "../support/server_process.ts";

scenario(
  "restarts, even with a new algorithm, interval or token lifetime, keep every kid's key and every token valid",
  async () => {
    await withTempDir(async (cwd) => {
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
    });
  },
);
