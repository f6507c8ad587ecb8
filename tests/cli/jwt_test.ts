import assert from "node:assert/strict";
import { decodeProtectedHeader } from "jose";
import { signClaims } from "../../lib/core/tokens.ts";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { cli, JWKS_URL, SECRET, workspace } from "../support/cli.ts";
import { body, fetchFrom, freshKey, T0, testApp, testClock } from "../support/helpers.ts";

Deno.test("keygen writes a private key only its owner can read and prints the public JWK with its thumbprint kid", async (t) => {
  await using ws = await workspace();
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
    for (const format of ["pem", "jwk"]) {
      await t.step(`${alg} as ${format}`, async () => {
        const out = `${ws.dir}/${alg}.${format === "jwk" ? "json" : "pem"}`;
        const result = await cli(["keygen", "--alg", alg, "--out", out]);
        assert.equal(result.code, 0, result.stderr);
        const stat = await Deno.stat(out);
        assert.equal(stat.mode! & 0o777, 0o600);
        const jwk = JSON.parse(result.stdout);
        assert.equal(jwk.alg, alg);
        assert.equal(jwk.use, "sig");
        assert.match(jwk.kid, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(jwk.d, undefined, "only the public key is printed");
        const text = await Deno.readTextFile(out);
        if (format === "pem") assert.match(text, /^-----BEGIN PRIVATE KEY-----/);
        else assert.equal(JSON.parse(text).kid, jwk.kid);
      });
    }
  }
  await t.step("an existing file is kept unless --force is given", async () => {
    const out = `${ws.dir}/ES256.pem`;
    const before = await Deno.readTextFile(out);
    const refused = await cli(["keygen", "--alg", "ES256", "--out", out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already exists; use --force/);
    assert.equal(await Deno.readTextFile(out), before);
    await Deno.chmod(out, 0o644);
    const forced = await cli(["keygen", "--alg", "ES256", "--out", out, "--force"]);
    assert.equal(forced.code, 0);
    assert.notEqual(await Deno.readTextFile(out), before);
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o600, "an overwritten key is private again");
  });
  await t.step("--format overrides the file extension", async () => {
    const out = `${ws.dir}/key.txt`;
    assert.equal((await cli(["keygen", "--alg", "EdDSA", "--out", out, "--format", "jwk"])).code, 0);
    assert.equal(JSON.parse(await Deno.readTextFile(out)).crv, "Ed25519");
  });
  await t.step("bad usage is exit 2 and a missing directory exit 1", async () => {
    assert.equal((await cli(["keygen"])).code, 2);
    assert.equal((await cli(["keygen", "--out", `${ws.dir}/x.pem`, "--format", "der"])).code, 2);
    assert.equal((await cli(["keygen", "--out", `${ws.dir}/x.pem`, "--alg", "HS256"])).code, 2);
    const missing = await cli(["keygen", "--alg", "ES256", "--out", `${ws.dir}/no/such/dir.pem`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /its directory does not exist/);
  });
});

Deno.test("keys import → sign → verify: a key made by keygen verifies against the server that imported it", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  const app = await testApp({ db: ws.db, alg: "ES256" }, { clock, secret: SECRET });
  const opts = { env: ws.env, clock, fetch: fetchFrom(app) };
  try {
    const keyFile = `${ws.dir}/mine.pem`;
    const kid = JSON.parse((await cli(["keygen", "--alg", "RS256", "--out", keyFile])).stdout).kid;

    await t.step("keys import publishes the key as the next key", async () => {
      const result = await cli(["keys", "import", keyFile], opts);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Published ${kid} \\(RS256\\)`));
      assert.match(result.stdout, new RegExp(`${kid}\\s+RS256\\s+next`));
      await app.refresh();
      const jwks = await body<{ keys: { kid: string }[] }>(await app.fetch("/jwks"));
      assert.ok(jwks.keys.some((key) => key.kid === kid), "the server publishes it");
    });

    const sign = async (...args: string[]) => {
      const result = await cli(["sign", "--key", keyFile, "--issuer", "http://127.0.0.1:8080", ...args], opts);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.trim();
    };
    const verify = (token: string, ...args: string[]) => cli(["verify", token, "--jwks", JWKS_URL, ...args], opts);

    await t.step("a signed token verifies and its claims are printed", async () => {
      const token = await sign("--subject", "alice", "--audience", "api", "--claims", '{"scope":"read"}');
      assert.deepEqual(decodeProtectedHeader(token), { alg: "RS256", kid, typ: "JWT" });
      const result = await verify(token, "--issuer", "http://127.0.0.1:8080", "--audience", "api");
      assert.equal(result.code, 0, result.stderr);
      const claims = JSON.parse(result.stdout);
      assert.equal(claims.sub, "alice");
      assert.equal(claims.scope, "read");
      assert.equal(claims.exp - claims.iat, 900, "--ttl defaults to 15 minutes");
      const json = JSON.parse((await verify(token, "--json")).stdout);
      assert.equal(json.valid, true);
      assert.equal(json.header.kid, kid);
    });
    await t.step("the token can come from stdin", async () => {
      const token = await sign();
      const result = await cli(["verify", "--jwks", JWKS_URL], { ...opts, stdin: `${token}\n` });
      assert.equal(result.code, 0, result.stderr);
    });
    await t.step("an expired token fails with one line saying when it expired", async () => {
      const token = await sign("--ttl", "1m");
      clock.advance(61_000);
      assert.equal((await verify(token)).code, 0, "within the default 60 s clock tolerance");
      const late = await verify(token, "--clock-skew", "0s");
      assert.equal(late.code, 1);
      assert.equal(late.stderr.trim().split("\n").length, 1);
      assert.equal(
        late.stderr,
        "jwks-server: Token expired at 2026-11-22T00:01:00Z (now 2026-11-22T00:01:01Z, clock tolerance 0 s)\n",
      );
      const explicit = await verify(await sign("--claims", `{"exp": ${T0 / 1000 - 120}}`));
      assert.match(explicit.stderr, /Token expired at 2026-11-21T23:58:00Z/, "--claims wins over --ttl");
    });
    await t.step("a tampered token fails with a bad signature", async () => {
      const [h, p, s] = (await sign("--subject", "alice")).split(".");
      const payload = JSON.parse(atob(p!.replaceAll("-", "+").replaceAll("_", "/")));
      const forged = btoa(JSON.stringify({ ...payload, sub: "mallory" })).replaceAll("=", "").replaceAll("+", "-")
        .replaceAll("/", "_");
      const result = await verify(`${h}.${forged}.${s}`, "--json");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Bad signature: the token was altered/);
      assert.equal(JSON.parse(result.stdout).reason, "bad_signature");
    });
    await t.step("wrong issuer, wrong audience and not-yet-valid tokens say so", async () => {
      const token = await sign("--audience", "api");
      const issuer = await verify(token, "--issuer", "https://other.example");
      assert.match(issuer.stderr, /Wrong issuer "http:\/\/127.0.0.1:8080", expected "https:\/\/other.example"/);
      const audience = await verify(token, "--audience", "web");
      assert.match(audience.stderr, /Wrong audience "api", expected "web"/);
      const noAudience = await verify(await sign(), "--audience", "web");
      assert.match(noAudience.stderr, /Token has no "aud" claim/);
      const early = await verify(await sign("--claims", `{"nbf": ${clock() / 1000 + 3600}}`));
      assert.match(early.stderr, /Token is not valid before/);
      const alg = await verify(token, "--alg", "ES256");
      assert.equal(alg.code, 1);
      for (const result of [issuer, audience, noAudience, early]) assert.equal(result.code, 1);
    });
    await t.step("--kid sets the header kid; an unknown kid fails as such", async () => {
      const token = await sign("--kid", "someone-else");
      assert.equal(decodeProtectedHeader(token).kid, "someone-else");
      const result = await verify(token);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Unknown kid "someone-else": no such key in http:\/\/127.0.0.1:8080/);
    });
    await t.step("after keys revoke the token's kid is unknown to verifiers", async () => {
      const token = await sign();
      const revoked = await cli(["keys", "revoke", kid], opts);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, new RegExp(`Revoked ${kid}: removed from the JWKS`));
      await app.refresh();
      const result = await verify(token);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`Unknown kid "${kid}"`));
    });
    await t.step("importing the same key twice is refused", async () => {
      const again = await cli(["keys", "import", keyFile], opts);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
    });
  } finally {
    await app.close();
  }
});

Deno.test("sign takes the kid from a JWK file and rejects bad --claims and --ttl as usage errors", async () => {
  await using ws = await workspace();
  const material = await freshKey("ES256");
  const path = `${ws.dir}/key.json`;
  await Deno.writeTextFile(path, JSON.stringify({ ...JSON.parse(privateKeyText(material, "jwk")), kid: "my-key-1" }));
  const signed = await cli(["sign", "--key", path]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.deepEqual(decodeProtectedHeader(signed.stdout.trim()), { alg: "ES256", kid: "my-key-1", typ: "JWT" });
  for (
    const argv of [["--claims", "[1,2]"], ["--claims", "{oops"], ["--ttl", "soon"], ["--ttl", "0"], ["--alg", "none"]]
  ) {
    const result = await cli(["sign", "--key", path, ...argv]);
    assert.equal(result.code, 2, argv.join(" "));
    assert.match(result.stderr, /\(see "jwks-server sign --help"\)/);
  }
  assert.equal((await cli(["sign"])).code, 2, "--key is required");
});

Deno.test("verify names the key set's failure: status, redirect, not JSON, not a JWKS, timeout, unreachable", async (t) => {
  const token = (await cli(["sign", "--key", "-"], {
    stdin: privateKeyText(await freshKey("ES256"), "pem"),
  })).stdout.trim();
  const answering = (response: () => Response): typeof fetch => () => Promise.resolve(response());
  const cases: [string, typeof fetch, string, RegExp][] = [
    ["a 404", answering(() => new Response("nope", { status: 404 })), "jwks_status", /answered 404, expected 200$/m],
    [
      "a redirect",
      answering(() => new Response(null, { status: 302, headers: { location: "https://elsewhere.example/jwks" } })),
      "jwks_status",
      /answered 302, expected 200; redirects are not followed/,
    ],
    ["HTML", answering(() => new Response("<html>")), "jwks_invalid", /is not JSON/],
    [
      "not a key set",
      answering(() => Response.json({ hello: "world" })),
      "jwks_invalid",
      /not a valid JSON Web Key Set/,
    ],
    [
      "a timeout",
      () => Promise.reject(new DOMException("The signal has been aborted", "TimeoutError")),
      "jwks_timeout",
      /did not answer within 5000 ms/,
    ],
    [
      "a refused connection",
      () => Promise.reject(new TypeError("Connection refused")),
      "jwks_unreachable",
      /Cannot fetch the key set at .*: Connection refused/,
    ],
  ];
  for (const [name, fetchImpl, reason, pattern] of cases) {
    await t.step(name, async () => {
      const result = await cli(["verify", token, "--jwks", JWKS_URL, "--json"], { fetch: fetchImpl });
      assert.equal(result.code, 1);
      assert.equal(JSON.parse(result.stdout).reason, reason);
      assert.match(result.stderr, pattern);
    });
  }
  await t.step("a real server that never answers times out after --timeout", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) held.push(conn);
    })();
    try {
      const url = `http://127.0.0.1:${listener.addr.port}/jwks`;
      const result = await cli(["verify", token, "--jwks", url, "--timeout", "200ms"], { fetch });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /did not answer within 200 ms/);
    } finally {
      listener.close();
      for (const conn of held) conn.close();
      await accepting.catch(() => {});
    }
  });
  await t.step("usage errors: no --jwks, a non-http URL, no token, bad durations", async () => {
    for (
      const argv of [
        ["verify", token],
        ["verify", token, "--jwks", "file:///etc/passwd"],
        ["verify", token, "--jwks", "not a url"],
        ["verify", "--jwks", JWKS_URL],
        ["verify", token, "--jwks", JWKS_URL, "--timeout", "forever"],
        ["verify", token, "--jwks", JWKS_URL, "--clock-skew", "x"],
      ]
    ) {
      assert.equal((await cli(argv)).code, 2, argv.join(" "));
    }
  });
  await t.step("a malformed token", async () => {
    const result = await cli(["verify", "not.a.jwt", "--jwks", JWKS_URL], { fetch: answering(() => new Response()) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Malformed token/);
  });
});

Deno.test("sign and keys import read at most 1 MiB of a key file: --key /dev/zero is one line and exit 1", async () => {
  await using ws = await workspace();
  for (const argv of [["sign", "--key", "/dev/zero"], ["keys", "import", "/dev/zero"]]) {
    const result = await cli(argv, { env: ws.env });
    assert.equal(result.code, 1, argv.join(" "));
    assert.equal(result.stderr.trim(), 'jwks-server: Key file "/dev/zero" is larger than 1048576 bytes');
  }
});

Deno.test("verify refuses a token without exp unless --no-require-exp, and takes --max-jwks-size", async () => {
  await using ws = await workspace();
  const clock = testClock();
  const app = await testApp({ db: ws.db, alg: "ES256" }, { clock, secret: SECRET });
  try {
    const opts = { env: ws.env, clock, fetch: fetchFrom(app) };
    const active = app.keys.view().active!;
    const now = Math.floor(clock() / 1000);
    const forever = await signClaims(active.signer, { alg: active.alg, kid: active.kid }, { sub: "x", iat: now });
    const refused = await cli(["verify", forever, "--jwks", JWKS_URL], opts);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Token has no "exp" claim \(a token that never expires; --no-require-exp accepts it\)/,
    );
    assert.equal((await cli(["verify", forever, "--jwks", JWKS_URL, "--no-require-exp"], opts)).code, 0);
    const bad = await cli(["verify", forever, "--jwks", JWKS_URL, "--max-jwks-size", "lots"], opts);
    assert.equal(bad.code, 2);
    const tiny = await cli(["verify", forever, "--jwks", JWKS_URL, "--no-require-exp", "--max-jwks-size", "10"], opts);
    assert.equal(tiny.code, 1);
    assert.match(tiny.stderr, /is larger than 10 bytes/);
  } finally {
    await app.close();
  }
});
