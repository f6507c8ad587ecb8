import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { LoginBackoff } from "../../lib/users/backoff.ts";
import { type Hasher } from "../../lib/users/hash_queue.ts";
import { UserService, validateEmail, validateUsername } from "../../lib/users/users.ts";
import { argon2AtMinimumCost, T0 } from "../support/helpers.ts";

/** Counts the work the real hasher is asked to do. */
function counting(inner: Hasher) {
  const calls = { hash: 0, verify: 0 };
  /** The stored hashes verify was asked to check against, in order. */
  const verified: string[] = [];
  const hasher: Hasher = {
    hash: (password) => (calls.hash++, inner.hash(password)),
    verify: (hash, password) => (calls.verify++, verified.push(hash), inner.verify(hash, password)),
  };
  return { hasher, calls, verified };
}

function service(options: { hasher?: Hasher; backoff?: LoginBackoff | null } = {}) {
  const store = openSqliteStore(":memory:", { secret: secretCheck(createSealer("users test secret")) });
  const users = new UserService({
    store,
    hasher: options.hasher ?? argon2AtMinimumCost,
    backoff: options.backoff ?? null,
  });
  return { store, users };
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("register() returns a UUIDv4 password once and stores only its Argon2id hash", async () => {
  const { store, users } = service();
  const { user, password } = await users.register("alice", "alice@example.com", T0);
  assert.match(password, UUID_V4);
  const stored = (await store.findUser("alice"))!;
  assert.equal(stored.id, user.id);
  assert.notEqual(stored.passwordHash, password);
  assert.ok(!stored.passwordHash.includes(password));
  assert.match(stored.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, "OWASP parameters");
  assert.equal((await users.authenticate("alice", password, T0))?.id, user.id);
  await store.close();
});

Deno.test("register() validates both fields and refuses a taken username or email", async () => {
  const { store, users } = service();
  await users.register("alice", "alice@example.com", T0);
  await assert.rejects(
    users.register("alice", "other@example.com", T0),
    (e: AppError) => e.code === "conflict" && e.field === "username",
  );
  await assert.rejects(
    users.register("bob", "alice@example.com", T0),
    (e: AppError) => e.code === "conflict" && e.field === "email",
  );
  for (
    const [username, email, field] of [
      ["", "a@b.co", "username"],
      [undefined, "a@b.co", "username"],
      ["' OR 1=1 --", "a@b.co", "username"],
      ["x".repeat(65), "a@b.co", "username"],
      [42, "a@b.co", "username"],
      ["carol", "not-an-email", "email"],
      ["carol", "", "email"],
      ["carol", ["a@b.co"], "email"],
    ] as const
  ) {
    await assert.rejects(
      users.register(username, email, T0),
      (e: AppError) => e.code === "invalid_field" && e.field === field,
      `${JSON.stringify(username)} / ${JSON.stringify(email)}`,
    );
  }
  assert.equal(validateUsername("testor_1a2b3c4d"), "testor_1a2b3c4d");
  assert.equal(validateEmail("testor_1a2b3c4d@test.com"), "testor_1a2b3c4d@test.com");
  await store.close();
});

Deno.test("authenticate() costs one hash verification for a known and for an unknown username", async () => {
  const { hasher, calls, verified } = counting(argon2AtMinimumCost);
  const { store, users } = service({ hasher });
  const { password } = await users.register("alice", "alice@example.com", T0);
  await users.prepare();
  calls.verify = 0;
  calls.hash = 0;
  assert.equal(await users.authenticate("alice", "wrong", T0), null);
  assert.deepEqual(calls, { hash: 0, verify: 1 });
  assert.equal(await users.authenticate("nobody", password, T0), null);
  assert.deepEqual(calls, { hash: 0, verify: 2 }, "the unknown user is checked against a real dummy hash");
  const [known, unknown] = verified;
  assert.match(unknown!, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, "a real Argon2id hash, at the same cost");
  assert.notEqual(unknown, known, "not alice's");
  assert.equal(await users.authenticate("' OR 1=1 --", "x' OR '1'='1", T0), null);
  assert.equal(calls.verify, 3);
  assert.notEqual(await users.authenticate("alice", password, T0), null);
  await store.close();
});

Deno.test("names are one account whatever their case or Unicode form", async () => {
  const { store, users } = service();
  const { user, password } = await users.register("Alice", "Alice@Example.com", T0);
  for (const name of ["alice", "ALICE", "\uff21\uff4c\uff49\uff43\uff45"]) {
    assert.equal((await users.authenticate(name, password, T0))?.id, user.id, name);
    assert.equal((await users.find(name))?.id, user.id, name);
  }
  await assert.rejects(users.register("aLICE", null, T0), (e: AppError) => e.code === "conflict");
  await assert.rejects(
    users.register("bob", "ALICE@example.COM", T0),
    (e: AppError) => e.code === "conflict" && e.field === "email",
  );
  const fullWidth = await users.register("\uff42\uff4f\uff42", null, T0);
  assert.equal(fullWidth.user.username, "bob", "stored in NFKC");
  assert.equal((await users.upsert("ALICE", "seeded", T0)).id, user.id, "a seed of another spelling resets that user");
  await store.close();
});

Deno.test("upsert() creates or resets a seeded user, idempotently", async () => {
  const { hasher, calls } = counting(argon2AtMinimumCost);
  const { store, users } = service({ hasher });
  const first = await users.upsert("userABC", "password123", T0);
  const hashes = calls.hash;
  const again = await users.upsert("userABC", "password123", T0);
  assert.equal(again.id, first.id);
  assert.equal(calls.hash, hashes, "an unchanged password is not rehashed");
  assert.equal(again.passwordHash, first.passwordHash);
  const changed = await users.upsert("userABC", "new password", T0);
  assert.equal(changed.id, first.id);
  assert.notEqual(await users.authenticate("userABC", "new password", T0), null);
  assert.equal(await users.authenticate("userABC", "password123", T0), null);
  await store.close();
});

Deno.test("authenticate() under the per-username backoff", async (t) => {
  const policy = { freeFailures: 2, baseMs: 1000, maxMs: 8000, maxEntries: 100 };
  await t.step("a username backing off is refused without hashing; a success resets it", async () => {
    const { hasher, calls } = counting(argon2AtMinimumCost);
    const { store, users } = service({ hasher, backoff: new LoginBackoff(policy) });
    const { password } = await users.register("alice", "alice@example.com", T0);
    await users.authenticate("alice", "bad", T0);
    await users.authenticate("alice", "bad", T0);
    await users.authenticate("alice", "bad", T0);
    const before = calls.verify;
    await assert.rejects(
      users.authenticate("alice", password, T0 + 999),
      (e: AppError) => e.code === "too_many_attempts" && e.retryAfter === 1,
    );
    assert.equal(calls.verify, before, "no hashing while backing off");
    assert.notEqual(await users.authenticate("alice", password, T0 + 1000), null);
    assert.equal(await users.authenticate("alice", "bad", T0 + 1000), null, "counting starts again");
    assert.equal(users.backoff!.waitMs({ username: "alice", ip: "" }, T0 + 1000), 0);
    await store.close();
  });
  await t.step("failures from one IP never keep the right password out when it comes from another", async () => {
    const { store, users } = service({ backoff: new LoginBackoff(policy) });
    const { password } = await users.register("alice", "alice@example.com", T0);
    for (let i = 0; i < 3; i++) await users.authenticate("alice", "bad", T0, { ip: "203.0.113.66" });
    await assert.rejects(
      users.authenticate("alice", password, T0, { ip: "203.0.113.66" }),
      (e: AppError) => e.code === "too_many_attempts",
      "the attacking IP is locked out",
    );
    assert.notEqual(await users.authenticate("alice", password, T0, { ip: "192.0.2.10" }), null);
    await store.close();
  });
  await t.step("spellings of one name share its backoff", async () => {
    const { store, users } = service({ backoff: new LoginBackoff(policy) });
    for (const name of ["alice", "ALICE", "Alice"]) await users.authenticate(name, "bad", T0);
    await assert.rejects(users.authenticate("aLiCe", "bad", T0), (e: AppError) => e.code === "too_many_attempts");
    await store.close();
  });
  await t.step("a name or password over the limits is refused before any state is kept or hash computed", async () => {
    const { hasher, calls } = counting(argon2AtMinimumCost);
    const backoff = new LoginBackoff(policy);
    const { store, users } = service({ hasher, backoff });
    await users.prepare();
    const before = { ...calls };
    for (let i = 0; i < 20; i++) {
      assert.equal(await users.authenticate("x".repeat(65_536 - i), "pw", T0), null);
      assert.equal(await users.authenticate(`u${i}`, "p".repeat(1025), T0), null);
    }
    assert.equal(backoff.size, 0, "no backoff entry");
    assert.deepEqual(calls, before, "no hashing");
    await store.close();
  });
  await t.step("unknown usernames back off exactly like known ones", async () => {
    const { store, users } = service({ backoff: new LoginBackoff(policy) });
    for (let i = 0; i < 3; i++) await users.authenticate("ghost", "x", T0);
    await assert.rejects(users.authenticate("ghost", "x", T0), (e: AppError) => e.code === "too_many_attempts");
    await store.close();
  });
});
