import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { parseCommand, runCommand } from "../../lib/cli/commands.ts";
import { type CommandIo, exitCodeOf } from "../../lib/cli/spec.ts";
import { AppError } from "../../lib/core/errors.ts";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { body, fastHasher, fetchFrom, freshKey, T0, testApp, type TestClock, testClock } from "../support/helpers.ts";

const SECRET = "commands test secret, 32 bytes!";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  clock?: TestClock;
  stdin?: string;
  fetch?: typeof fetch;
}

/** Runs a command in-process exactly as `main.ts` does, capturing its output. */
async function cli(argv: string[], options: RunOptions = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CommandIo = {
    env: options.env ?? {},
    clock: options.clock ?? testClock(),
    write: (text) => (stdout += text),
    warn: (line) => (stderr += `jwks-server: ${line}\n`),
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    hasher: fastHasher,
    generate: freshKey,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  try {
    const code = await runCommand(parseCommand(argv), io);
    return { code, stdout, stderr };
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    return { code: exitCodeOf(error), stdout, stderr: stderr + `jwks-server: ${error.message}\n` };
  }
}

/** A temporary directory with a database path and the environment that points at it. */
async function workspace(extra: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir();
  const db = `${dir}/keys.db`;
  return {
    dir,
    db,
    env: { JWKS_DB: db, NOT_MY_KEY: SECRET, JWKS_ALG: "ES256", ...extra },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A fetch that sends requests to an in-process app. */
const JWKS_URL = "http://127.0.0.1:8080/.well-known/jwks.json";

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

Deno.test("keys import accepts PKCS#1, SEC1, PKCS#8 and JWK files, and stdin", async (t) => {
  await using ws = await workspace();
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const files: [string, string, string][] = [
    ["PKCS#1 RSA PRIVATE KEY", rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string, "RS256"],
    [
      "SEC1 EC PRIVATE KEY after EC PARAMETERS",
      "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" +
      ec.privateKey.export({ type: "sec1", format: "pem" }),
      "ES256",
    ],
    ["a private JWK", privateKeyText(await freshKey("EdDSA"), "jwk"), "EdDSA"],
    [
      "a JWK Set with one key",
      JSON.stringify({ keys: [JSON.parse(privateKeyText(await freshKey("ES256"), "jwk"))] }),
      "ES256",
    ],
  ];
  for (const [name, text, alg] of files) {
    await t.step(name, async () => {
      const path = `${ws.dir}/${crypto.randomUUID()}.key`;
      await Deno.writeTextFile(path, text);
      const result = await cli(["keys", "import", path, "--json"], { env: ws.env });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.keys.find((key: { kid: string }) => key.kid === report.kid).alg, alg);
    });
  }
  await t.step("--alg PS256 for an RSA key, from stdin", async () => {
    const fresh = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const result = await cli(["keys", "import", "-", "--alg", "PS256", "--json"], {
      env: ws.env,
      stdin: fresh.export({ type: "pkcs8", format: "pem" }) as string,
    });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.keys.find((key: { kid: string }) => key.kid === report.kid).alg, "PS256");
  });
});

Deno.test("keys import and sign refuse bad key files with one line and exit 1", async (t) => {
  await using ws = await workspace();
  const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cases: [string, string, RegExp][] = [
    ["an empty file", "", /The key file is empty/],
    ["garbage", "hello", /holds no private key \(found no PEM block\)/],
    ["a public key", rsa.publicKey.export({ type: "spki", format: "pem" }) as string, /found "PUBLIC KEY"/],
    [
      "an encrypted key",
      rsa.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" }) as string,
      /encrypted; decrypt it first/,
    ],
    ["a broken PEM body", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", /not a valid private key/],
    ["RSA 1024", rsa1024.privateKey.export({ type: "pkcs8", format: "pem" }) as string, /at least 2048 bits/],
    [
      "P-384",
      generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      /Unsupported key type "EC" \(P-384\)/,
    ],
    ["bad JSON", "{not json", /neither PEM nor valid JSON/],
    ["a JSON array", "[1]", /not a JSON Web Key/],
    ["a JWK without kty", '{"d":"x"}', /no "kty" member/],
    [
      "a public JWK",
      '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
      /no private part/,
    ],
    ["a JWK Set of two", '{"keys":[{},{}]}', /holds 2 keys; expected exactly one/],
  ];
  for (const [name, text, pattern] of cases) {
    await t.step(name, async () => {
      const path = `${ws.dir}/bad.key`;
      await Deno.writeTextFile(path, text);
      for (const argv of [["keys", "import", path], ["sign", "--key", path]]) {
        const result = await cli(argv, { env: ws.env });
        assert.equal(result.code, 1, `${argv[0]}: ${result.stderr}`);
        assert.equal(result.stderr.trim().split("\n").length, 1);
        assert.match(result.stderr, pattern);
        assert.ok(!/[A-Za-z0-9+/]{60}/.test(result.stderr), "no key material in the message");
      }
    });
  }
  await t.step("a missing file and a directory", async () => {
    const missing = await cli(["sign", "--key", `${ws.dir}/nope.pem`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Key file ".*nope.pem" does not exist/);
    const directory = await cli(["keys", "import", ws.dir], { env: ws.env });
    assert.equal(directory.code, 1);
    assert.match(directory.stderr, /is a directory/);
  });
  await t.step("a key that does not fit --alg", async () => {
    const path = `${ws.dir}/ec.pem`;
    await Deno.writeTextFile(path, privateKeyText(await freshKey("ES256"), "pem"));
    const result = await cli(["sign", "--key", path, "--alg", "RS256"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /A key of type "EC" \(P-256\) cannot sign RS256/);
  });
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

Deno.test("keys list, rotate and revoke work on the server's database file", async (t) => {
  await using ws = await workspace();
  await t.step("list and revoke need an existing database", async () => {
    for (const argv of [["keys", "list"], ["keys", "revoke", "x"]]) {
      const result = await cli(argv, { env: ws.env });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /No database at ".*keys.db"; check --db or JWKS_DB/);
    }
    await assert.rejects(Deno.stat(ws.db), Deno.errors.NotFound, "nothing was created");
  });
  await t.step("rotate creates the database and its keys when it is new", async () => {
    const result = await cli(["keys", "rotate", "--json"], { env: ws.env });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.ok(report.changes.length >= 3);
    assert.ok(report.keys.some((key: { status: string }) => key.status === "active"));
  });
  const clock = testClock();
  const app = await testApp({ db: ws.db, alg: "ES256" }, { clock, secret: SECRET });
  try {
    await t.step("a rotation by the CLI changes the server's JWKS and its ETag once the server refreshes", async () => {
      const before = (await app.fetch("/jwks")).headers.get("etag");
      const result = await cli(["keys", "rotate"], { env: ws.env, clock });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Published \S+ \(ES256\)/m);
      await app.refresh();
      assert.notEqual((await app.fetch("/jwks")).headers.get("etag"), before);
    });
    await t.step("list shows the same keys as the JWKS, in table and JSON form", async () => {
      const table = await cli(["keys", "list"], { env: ws.env, clock });
      assert.equal(table.code, 0);
      assert.match(table.stdout, /^KID\s+ALG\s+STATUS\s+SIGNS FROM\s+SIGNS UNTIL\s+LEAVES JWKS$/m);
      const { keys } = JSON.parse((await cli(["keys", "list", "--json"], { env: ws.env, clock })).stdout);
      const jwks = await body<{ keys: { kid: string }[] }>(await app.fetch("/jwks"));
      assert.deepEqual(
        keys.filter((key: { published: boolean }) => key.published).map((key: { kid: string }) => key.kid).sort(),
        jwks.keys.map((key) => key.kid).sort(),
      );
    });
    await t.step("revoking the active key makes the next key sign at once", async () => {
      const token = async () =>
        decodeProtectedHeader((await body<{ token: string }>(await app.fetch("/auth", { method: "POST" }))).token).kid!;
      const active = await token();
      const result = await cli(["keys", "revoke", active, "--json"], { env: ws.env, clock });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).keys.find((key: { kid: string }) => key.kid === active).status, "revoked");
      await app.refresh();
      assert.notEqual(await token(), active);
      const again = await cli(["keys", "revoke", active], { env: ws.env, clock });
      assert.equal(again.code, 0, "revoking twice is harmless");
      assert.match(again.stdout, /^Nothing to change$/m);
      const unknown = await cli(["keys", "revoke", "no-such-kid"], { env: ws.env, clock });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No key with kid "no-such-kid"/);
    });
  } finally {
    await app.close();
  }
  await t.step("a wrong NOT_MY_KEY is refused and a :memory: database is a usage error", async () => {
    const wrong = await cli(["keys", "list"], { env: { ...ws.env, NOT_MY_KEY: "another secret entirely!!" } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /NOT_MY_KEY does not match/);
    assert.equal((await cli(["keys", "list", "--db", ":memory:"], { env: ws.env })).code, 2);
    assert.equal((await cli(["keys", "list", "--rotate-every", "1s"], { env: ws.env })).code, 2);
  });
});

Deno.test("without NOT_MY_KEY the key commands use the development secret file, and say so when they create it", async () => {
  await using ws = await workspace();
  const env = { JWKS_DB: ws.db, JWKS_ALG: "ES256" };
  const first = await cli(["keys", "rotate"], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^jwks-server: Warning: NOT_MY_KEY is not set; generated a DEVELOPMENT master secret/);
  assert.equal((await Deno.stat(`${ws.db}.secret`)).mode! & 0o777, 0o600);
  const second = await cli(["keys", "list"], { env });
  assert.equal(second.code, 0);
  assert.equal(second.stderr, "", "no warning once the file exists");
  await Deno.remove(`${ws.db}.secret`);
  const lost = await cli(["keys", "list"], { env });
  assert.equal(lost.code, 1);
  assert.match(lost.stderr, /was created with another master secret: set NOT_MY_KEY to it/);
  await assert.rejects(Deno.stat(`${ws.db}.secret`), Deno.errors.NotFound, "the new secret file is removed again");
});

Deno.test("users add registers a user with a generated password shown once", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  const added = await cli(["users", "add", "alice", "--email", "alice@example.com"], { env: ws.env, clock });
  assert.equal(added.code, 0, added.stderr);
  const password = /Password, shown once: ([0-9a-f-]{36})$/m.exec(added.stdout)?.[1];
  assert.ok(password, added.stdout);
  await t.step("the user logs in with it on the server", async () => {
    const app = await testApp({ db: ws.db, alg: "ES256", auth: "password" }, { clock, secret: SECRET });
    try {
      const ok = await app.fetch("/auth", {
        method: "POST",
        body: new URLSearchParams({ username: "alice", password }),
      });
      assert.equal(ok.status, 200);
      const wrong = await app.fetch("/auth", {
        method: "POST",
        body: new URLSearchParams({ username: "alice", password: "x" }),
      });
      assert.equal(wrong.status, 401);
    } finally {
      await app.close();
    }
  });
  await t.step("only a hash is stored", async () => {
    const bytes = await Deno.readFile(ws.db);
    assert.ok(!new TextDecoder("latin1").decode(bytes).includes(password));
  });
  await t.step("--json, a taken name, and a bad name", async () => {
    const json = JSON.parse((await cli(["users", "add", "bob", "--json"], { env: ws.env, clock })).stdout);
    assert.equal(json.username, "bob");
    assert.equal(json.email, null);
    assert.match(json.password, /^[0-9a-f-]{36}$/);
    const taken = await cli(["users", "add", "alice"], { env: ws.env, clock });
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /already registered/);
    const bad = await cli(["users", "add", "no spaces"], { env: ws.env, clock });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Username must be/);
  });
});

Deno.test("exit codes: 2 for usage and configuration errors, 1 for other failures", () => {
  assert.equal(exitCodeOf(new AppError("usage", "x")), 2);
  assert.equal(exitCodeOf(new AppError("invalid_config", "x")), 2);
  assert.equal(exitCodeOf(new AppError("not_found", "x")), 1);
  assert.equal(exitCodeOf(new Error("boom")), 1);
});

Deno.test("serve runs through the io's serve hook with the settings it parsed, and its exit code", async () => {
  const served: number[] = [];
  const code = await runCommand(parseCommand(["serve", "--port", "9001"]), {
    env: { AUTH_MODE: "open" },
    clock: testClock(),
    write: () => {},
    warn: () => {},
    readStdin: () => Promise.resolve(""),
    serve: (config) => (served.push(config.port), assert.equal(config.authMode, "open"), Promise.resolve(3)),
  });
  assert.equal(code, 3);
  assert.deepEqual(served, [9001]);
  await assert.rejects(
    runCommand(parseCommand(["serve"]), {
      env: {},
      clock: testClock(),
      write() {},
      warn() {},
      readStdin: () => Promise.resolve(""),
    }),
    (error: unknown) => error instanceof AppError && error.code === "internal",
  );
});

Deno.test("the database commands read the server's settings, and a bad one is exit 2 naming it", async (t) => {
  await using ws = await workspace();
  await t.step(".env supplies the database and the secret, as it does for the server", async () => {
    let stdout = "";
    const code = await runCommand(parseCommand(["keys", "rotate"]), {
      env: {},
      dotenv: { JWKS_DB: ws.db, NOT_MY_KEY: SECRET, JWKS_ALG: "EdDSA" },
      clock: testClock(),
      write: (text) => (stdout += text),
      warn: () => {},
      readStdin: () => Promise.resolve(""),
      generate: freshKey,
    });
    assert.equal(code, 0);
    assert.match(stdout, /\(EdDSA\)/);
  });
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "http" }, /Invalid PORT "http": expected an integer/],
    [{ HOST: "bad host!" }, /Invalid HOST "bad host!"/],
    [{ JWKS_DB: "mysql://db/keys" }, /Invalid JWKS_DB: expected a file path, :memory: or a postgres:\/\/ URL/],
    [{ AUTH_MODE: "maybe" }, /Invalid AUTH_MODE "maybe"/],
    [{ TOKEN_TTL: "forever" }, /Invalid TOKEN_TTL "forever": expected a duration/],
    [{ JWKS_ALG: "HS256" }, /Invalid JWKS_ALG "HS256"/],
    [{ JWKS_ISSUER: "not a url" }, /Invalid JWKS_ISSUER "not a url": expected a URL/],
    [{ TRUST_PROXY: "sometimes" }, /Invalid TRUST_PROXY "sometimes"/],
    [{ RATE_LIMIT: "fast" }, /Invalid RATE_LIMIT "fast"/],
    [{ RATE_LIMIT_STORE: "memcached://x" }, /Invalid RATE_LIMIT_STORE: expected "memory" or a redis:\/\/ URL/],
    [{ JWKS_SEED_USERS: "nopassword" }, /Invalid JWKS_SEED_USERS: expected NAME:PASSWORD/],
    [{ ADMIN_TOKEN: "short" }, /Invalid ADMIN_TOKEN: must be at least 16 characters$/m],
    [{ LOG_LEVEL: "loud" }, /Invalid LOG_LEVEL "loud"/],
    [{ HASH_CONCURRENCY: "0" }, /Invalid HASH_CONCURRENCY "0"/],
  ];
  for (const [env, pattern] of cases) {
    await t.step(Object.keys(env).join(", "), async () => {
      const result = await cli(["keys", "list"], { env: { ...ws.env, ...env } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, pattern);
    });
  }
  await t.step("a setting in .env is named as such", async () => {
    let message = "";
    try {
      await runCommand(parseCommand(["keys", "list"]), {
        env: { JWKS_DB: ws.db },
        dotenv: { CLOCK_SKEW: "lots" },
        clock: testClock(),
        write: () => {},
        warn: () => {},
        readStdin: () => Promise.resolve(""),
      });
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /Invalid CLOCK_SKEW in \.env "lots"/);
  });
});
