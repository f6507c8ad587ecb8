import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { withApp } from "../support/helpers.ts";

// The code SQL runs in the store contract against every backend (tests/support/store_contract.ts);
// these cases pin what is on disk.
Deno.test("a code is on disk only as its hash, and a claim records what it issued", async () => {
  await withApp({}, async (app) => {
    await app.store.oauth.createCode({
      hash: "h".repeat(64),
      clientId: "c",
      redirectUri: "https://app.example/cb",
      codeChallenge: null,
      scope: "openid",
      nonce: null,
      subject: "alice",
      userId: null,
      claims: {},
      authTime: 10,
      createdAt: 10,
      expiresAt: 70,
    });
    assert.equal(
      await app.store.oauth.useCode("h".repeat(64), 20, { accessJti: "j1", accessExp: 900, grant: null }),
      true,
    );
    const db = new DatabaseSync(app.config.db, { readOnly: true });
    try {
      const row = db.prepare("SELECT code_hash, used_at, access_jti, access_exp, grant_id FROM jwks_oauth_codes").get();
      assert.deepEqual({ ...row }, {
        code_hash: "h".repeat(64),
        used_at: 20,
        access_jti: "j1",
        access_exp: 900,
        grant_id: null,
      });
    } finally {
      db.close();
    }
  }, { onDisk: true });
});
