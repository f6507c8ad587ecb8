import assert from "node:assert/strict";
import { argon2Hasher } from "../../lib/users/argon2.ts";

Deno.test("argon2Hasher() hashes with Argon2id at OWASP's parameters and verifies only the right password", async () => {
  const hasher = argon2Hasher();
  const hash = await hasher.hash("correct horse");
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  assert.ok(!hash.includes("correct horse"));
  assert.notEqual(await hasher.hash("correct horse"), hash, "a fresh salt each time");
  assert.equal(await hasher.verify(hash, "correct horse"), true);
  assert.equal(await hasher.verify(hash, "correct horsE"), false);
  assert.equal(await hasher.verify(hash, ""), false);
});

Deno.test("argon2Hasher() never goes below the minimum cost, and accepts a higher one", async () => {
  const cheap = argon2Hasher({ memoryCost: 1024, timeCost: 1 });
  assert.match(await cheap.hash("pw"), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  const dearer = argon2Hasher({ memoryCost: 20_000, timeCost: 3 });
  const hash = await dearer.hash("pw");
  assert.match(hash, /^\$argon2id\$v=19\$m=20000,t=3,p=1\$/);
  assert.equal(await argon2Hasher().verify(hash, "pw"), true, "the parameters travel with the hash");
});

Deno.test("a malformed stored hash does not match and does not throw", async () => {
  const hasher = argon2Hasher();
  for (const bad of ["", "plaintext", "$argon2id$v=19$m=19456,t=2,p=1$bad", "$2b$10$bcryptlooking"]) {
    assert.equal(await hasher.verify(bad, "pw"), false, JSON.stringify(bad));
  }
});
