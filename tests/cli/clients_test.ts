import assert from "node:assert/strict";
import { cli, SECRET, workspace } from "../support/cli.ts";
import { testClock, withApp } from "../support/helpers.ts";
import { basic, formPost } from "../support/oauth.ts";

Deno.test("clients add, list and remove on the server's database", async (t) => {
  await using ws = await workspace();
  const clock = testClock();
  const run = (argv: string[]) => cli(argv, { env: ws.env, clock });
  const added = await run([
    "clients",
    "add",
    "billing",
    "--scope",
    "invoices:read",
    "--scope",
    "offline_access",
    "--grant",
    "client_credentials",
    "--audience",
    "https://billing.example",
  ]);
  assert.equal(added.code, 0, added.stderr);
  const id = /client_id: +(\S+)/.exec(added.stdout)?.[1];
  const secret = /Client secret, shown once: (\S+)$/m.exec(added.stdout)?.[1];
  assert.ok(id && secret, added.stdout);

  await t.step("the server on that database issues tokens to the client", async () => {
    await withApp({ db: ws.db, alg: "ES256", auth: "password" }, async (app) => {
      const response = await formPost(app, "/token", { grant_type: "client_credentials" }, basic(id, secret));
      const answer = await response.json();
      assert.equal(response.status, 200, JSON.stringify(answer));
      assert.equal(answer.scope, "invoices:read");
    }, { clock, secret: SECRET });
  });
  await t.step("only the secret's hash is stored", async () => {
    assert.ok(!new TextDecoder("latin1").decode(await Deno.readFile(ws.db)).includes(secret));
  });
  await t.step("list shows the client, never a secret; --json for scripts", async () => {
    const listed = await run(["clients", "list"]);
    assert.match(listed.stdout, /billing \(confidential\)/);
    assert.ok(!listed.stdout.includes(secret));
    const json = JSON.parse((await run(["clients", "list", "--json"])).stdout);
    assert.deepEqual(json.clients.map((client: { client_id: string }) => client.client_id), [id]);
    assert.deepEqual(json.clients[0].scopes, ["invoices:read", "offline_access"]);
  });
  await t.step("clients add --grant authorization_code --redirect-uri U makes a browser sign-in client", async () => {
    const web = await run([
      "clients",
      "add",
      "web",
      "--public",
      "--grant",
      "authorization_code",
      "--redirect-uri",
      "https://app.example/cb",
      "--json",
    ]);
    assert.equal(web.code, 0, web.stderr);
    assert.deepEqual(JSON.parse(web.stdout).grant_types, ["authorization_code"]);
    const none = await run(["clients", "add", "web2", "--public", "--grant", "authorization_code"]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /needs at least one redirect URI/);
  });
  await t.step("--public makes a client without a secret; --json prints the secret of a confidential one", async () => {
    const pub = JSON.parse((await run(["clients", "add", "mobile", "--public", "--json"])).stdout);
    assert.equal(pub.public, true);
    assert.equal("client_secret" in pub, false);
    assert.deepEqual(pub.grant_types, ["password", "refresh_token"]);
    const conf = JSON.parse((await run(["clients", "add", "svc", "--json"])).stdout);
    assert.match(conf.client_secret, /^[A-Za-z0-9_-]{43}$/);
  });
  await t.step("bad input is a usage error (exit 2)", async () => {
    const bad = await run(["clients", "add", "x", "--grant", "implicit"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Grant type "implicit" is not one of/);
    assert.equal((await run(["clients", "add", "x", "--public", "--grant", "client_credentials"])).code, 2);
  });
  await t.step("remove deletes the client; removing it again fails", async () => {
    const removed = await run(["clients", "remove", id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Removed client/);
    const again = await run(["clients", "remove", id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No client/);
  });
});
