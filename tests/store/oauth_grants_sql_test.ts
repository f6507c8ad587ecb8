import assert from "node:assert/strict";
import { toGrantRecord } from "../../lib/store/oauth_grants_sql.ts";

// findGrant, insertGrant and revokeGrant run in the store contract against every backend.
Deno.test("a grant row maps to a frozen record with its audience list", () => {
  const record = toGrantRecord({
    id: "g",
    client_id: "c",
    subject: "alice",
    user_id: 3n,
    scope: "openid",
    audience: '["https://api.example"]',
    created_at: 100,
    revoked_at: null,
  });
  assert.deepEqual(record, {
    id: "g",
    clientId: "c",
    subject: "alice",
    userId: 3,
    scope: "openid",
    audience: ["https://api.example"],
    createdAt: 100,
    revokedAt: null,
  });
  assert.ok(Object.isFrozen(record));
  const fromText = toGrantRecord({
    id: "g",
    client_id: "c",
    subject: "s",
    user_id: "5",
    scope: "read",
    audience: "[]",
    created_at: "1",
    revoked_at: null,
  });
  assert.deepEqual([fromText.userId, fromText.createdAt], [5, 1], "PostgreSQL's bigint text reads as numbers");
});
