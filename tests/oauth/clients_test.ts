import assert from "node:assert/strict";
import type { AppError } from "../../lib/core/errors.ts";
import { ClientService, clientView, hashSecret, secretMatches, validateClient } from "../../lib/oauth/clients.ts";
import { openStore } from "../../lib/store/registry.ts";
import { contractSecret } from "../support/store_contract.ts";

Deno.test("validateClient() fills defaults and refuses what a client cannot be", async (t) => {
  await t.step("defaults: client_credentials when confidential, password and refresh_token when public", () => {
    assert.deepEqual(validateClient({ name: " svc " }).grantTypes, ["client_credentials"]);
    assert.equal(validateClient({ name: " svc " }).name, "svc");
    assert.deepEqual(validateClient({ name: "app", public: true }).grantTypes, ["password", "refresh_token"]);
  });
  await t.step("scopes may be given space-separated; duplicates go", () => {
    assert.deepEqual(validateClient({ name: "a", scopes: ["read write", "read"] }).scopes, ["read", "write"]);
  });
  await t.step("refused: no name, an unknown grant, a public client_credentials client, bad redirect URIs", () => {
    const refused = [
      { name: "" },
      { name: "x".repeat(101) },
      { name: "a", grantTypes: ["implicit"] },
      { name: "a", grantTypes: ["client_credentials"], public: true },
      { name: "a", redirectUris: ["not a uri"] },
      { name: "a", redirectUris: ["http://app.example/cb"] },
      { name: "a", redirectUris: ["https://app.example/cb#frag"] },
      { name: "a", scopes: ['a"b'] },
      { name: "a", audiences: ["has space"] },
      { name: "a", public: "yes" },
      { name: "a", public: true, grantTypes: ["authorization_code"] },
    ];
    for (const input of refused) {
      assert.throws(
        () => validateClient(input),
        (error: AppError) => error.code === "invalid_field",
        JSON.stringify(input),
      );
    }
    assert.deepEqual(validateClient({ name: "a", redirectUris: ["http://127.0.0.1:9000/cb"] }).redirectUris, [
      "http://127.0.0.1:9000/cb",
    ], "plain http is fine on loopback (RFC 8252 §7.3)");
  });
  await t.step("authorization_code is a grant a client may have, with at least one redirect URI", () => {
    const checked = validateClient({
      name: "web",
      public: true,
      grantTypes: ["authorization_code", "refresh_token"],
      redirectUris: ["https://app.example/cb"],
    });
    assert.deepEqual(checked.grantTypes, ["authorization_code", "refresh_token"]);
  });
});

Deno.test("a client secret is 256 random bits, shown once, stored as its SHA-256, checked in constant time", async () => {
  const store = await openStore(":memory:", { secret: contractSecret });
  try {
    const clients = new ClientService(store.oauth);
    const { client, secret } = await clients.register({ name: "svc" }, 100);
    assert.match(secret!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(client.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(client.secretHash, hashSecret(secret!));
    assert.equal(secretMatches(client, secret!), true);
    assert.equal(secretMatches(client, secret!.slice(0, -1)), false);
    assert.equal(JSON.stringify(clientView(client)).includes(secret!), false);
    assert.equal("secretHash" in clientView(client), false);
    const pub = await clients.register({ name: "app", public: true }, 101);
    assert.equal(pub.secret, null);
    assert.equal(secretMatches(pub.client, ""), false, "a public client has no secret to match");
    assert.deepEqual((await clients.list()).map((c) => c.name), ["svc", "app"]);
    // An id is typed as a command-line argument: one starting with "-" would read as an option.
    for (let i = 0; i < 200; i++) {
      assert.match((await clients.register({ name: `c${i}` }, 102)).client.id, /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
    }
    await clients.remove(client.id, 200);
    await assert.rejects(clients.remove(client.id, 200), (error: AppError) => error.code === "not_found");
  } finally {
    await store.close();
  }
});
