import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { body, freshKey, testClock, withApp } from "../support/helpers.ts";

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
    ["RSA 1024", rsa1024.privateKey.export({ type: "pkcs8", format: "pem" }) as string, /must have 2048 to 4096 bits/],
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
  await withApp({ db: ws.db, alg: "ES256" }, async (app) => {
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
  }, { clock, secret: SECRET });
  await t.step("a wrong NOT_MY_KEY is refused and a :memory: database is a usage error", async () => {
    const wrong = await cli(["keys", "list"], { env: { ...ws.env, NOT_MY_KEY: "another secret entirely!!" } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /NOT_MY_KEY does not match/);
    assert.equal((await cli(["keys", "list", "--db", ":memory:"], { env: ws.env })).code, 2);
    assert.equal((await cli(["keys", "list", "--rotate-every", "1s"], { env: ws.env })).code, 2);
  });
});

Deno.test("keys commands plan with the policy the server stored, and say when a setting given differs", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  await withApp({ db: ws.db, alg: "ES256", "rotate-every": "2m", "token-ttl": "60s" }, async () => {}, {
    clock,
    secret: SECRET,
  });
  await t.step("keys rotate without the server's flags keeps its 2-minute keys", async () => {
    const result = await cli(["keys", "rotate", "--json"], { env: ws.env, clock });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "", "nothing differs: nothing to say");
    const created = JSON.parse(result.stdout).changes.find((change: { event: string }) =>
      change.event === "key_created"
    );
    const key = JSON.parse(result.stdout).keys.find((k: { kid: string }) => k.kid === created.kid);
    assert.equal((Date.parse(key.retiresAt) - Date.parse(key.activatesAt)) / 1000, 120);
  });
  await t.step("a flag that differs is named on stderr, and this command plans with it", async () => {
    const result = await cli(["keys", "rotate", "--rotate-every", "1h", "--json"], { env: ws.env, clock });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /Warning: the rotation interval given here \(1h\) differs from the one the server uses \(2m, stored with the keys\); this command plans with 1h/,
    );
  });
  await t.step("keys list shows the stored policy", async () => {
    const result = await cli(["keys", "list"], { env: ws.env, clock });
    assert.match(result.stdout, /^Key policy \(stored by the server\): ES256, each key signs 2m, tokens live 1m/m);
    assert.equal(
      JSON.parse((await cli(["keys", "list", "--json"], { env: ws.env, clock })).stdout).policy.tokenTtl,
      60,
    );
  });
  await t.step("a key revoked before its turn says it never signed", async () => {
    const { keys } = JSON.parse((await cli(["keys", "list", "--json"], { env: ws.env, clock })).stdout);
    const waiting = keys.filter((key: { status: string }) => key.status === "next").at(-1);
    await cli(["keys", "revoke", waiting.kid], { env: ws.env, clock });
    const table = (await cli(["keys", "list"], { env: ws.env, clock })).stdout;
    const row = table.split("\n").find((line) => line.startsWith(waiting.kid))!;
    assert.match(row, /revoked\s+never\s+-\s+\S+ \(revoked\)$/);
  });
});
