import assert from "node:assert/strict";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { T0, testApp } from "../support/helpers.ts";

const TARGET = "http://api.test/me";

/** A database with this server's keys at `db`, and the JWKS it publishes. */
async function serverKeys(db: string): Promise<JSONWebKeySet> {
  const app = await testApp({ db }, { secret: SECRET });
  try {
    return JSON.parse(new TextDecoder().decode(app.keys.view().jwks.body));
  } finally {
    await app.close();
  }
}

/** A target API answering every bearer token with `answer(token)`. */
function target(answer: (token: string, request: Request) => Promise<number> | number): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const token = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
    return new Response(null, { status: await answer(token, request) });
  };
}

Deno.test("probe signs with the database's own keys and exits 0 when the target rejects every forged token", async () => {
  await using ws = await workspace();
  const jwks = createLocalJWKSet(await serverKeys(ws.db));
  const methods = new Set<string>();
  const strict = target(async (token, request) => {
    methods.add(request.method);
    try {
      await jwtVerify(token, jwks, {
        issuer: "https://issuer.test",
        audience: "my-api",
        algorithms: ["ES256"],
        currentDate: new Date(T0),
        requiredClaims: ["exp", "iat"],
        maxTokenAge: "1h",
      });
      return 200;
    } catch {
      return 401;
    }
  });
  const result = await cli(
    ["probe", TARGET, "--issuer", "https://issuer.test", "--audience", "my-api", "--json"],
    { env: ws.env, fetch: strict },
  );
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.control.verdict, "accepted", "the control is signed by a key the JWKS publishes");
  assert.equal(report.issuer, "https://issuer.test", "--issuer names what the target expects");
  assert.equal(report.audience, "my-api");
  assert.equal(report.summary.accepted, 0);
  assert.deepEqual([...methods], ["GET"]);
});

Deno.test("probe exits 1 when the target accepts a forged token, 2 when it refuses the control", async () => {
  await using ws = await workspace();
  await serverKeys(ws.db);
  const accepting = await cli(["probe", TARGET, "--method", "POST"], { env: ws.env, fetch: target(() => 200) });
  assert.equal(accepting.code, 1);
  assert.match(accepting.stdout, /FAIL: \d+ of \d+ forged tokens not rejected/);
  const refusing = await cli(["probe", TARGET], { env: ws.env, fetch: target(() => 401) });
  assert.equal(refusing.code, 2);
  assert.match(refusing.stdout, /Control token not accepted: the target answered 401/);
});

Deno.test("probe needs an existing database and a URL", async () => {
  await using ws = await workspace();
  const missing = await cli(["probe", TARGET], { env: ws.env, fetch: target(() => 200) });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /keys\.db/);
  const noUrl = await cli(["probe"], { env: ws.env });
  assert.equal(noUrl.code, 2);
});
