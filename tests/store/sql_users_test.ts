import assert from "node:assert/strict";
import type { AppError } from "../../lib/core/errors.ts";
import { createUser, findUser, toUserRecord, upsertUser } from "../../lib/store/sql_users.ts";
import { withProgramDatabase } from "../support/sql_programs.ts";
import { T0 } from "../support/helpers.ts";

const user = (username: string, email: string | null = `${username}@test.com`, passwordHash = "$argon2id$h1") => ({
  username,
  email,
  passwordHash,
});

Deno.test("toUserRecord() reads a users row, a NULL email staying null", () => {
  assert.deepEqual(toUserRecord({ id: 3n, username: "a", email: null, password_hash: "h" }), {
    id: 3,
    username: "a",
    email: null,
    passwordHash: "h",
  });
});

Deno.test("createUser() stores a user once per name, whatever its case or Unicode form", async (t) => {
  await withProgramDatabase(async ({ run, rows }) => {
    await t.step("the user is stored with its registration time and its spelling", () => {
      const created = run(createUser(user("Alice"), T0));
      assert.equal(created.username, "Alice");
      const [row] = rows("SELECT username, email, date_registered FROM users WHERE id = ?", created.id);
      assert.deepEqual({ ...row }, {
        username: "Alice",
        email: "Alice@test.com",
        date_registered: "2026-11-22 00:00:00",
      });
    });
    await t.step("the same name in another case or form is a conflict on username", () => {
      for (const name of ["alice", "ＡＬＩＣＥ"]) {
        assert.throws(
          () => run(createUser(user(name, `${name}-other@test.com`), T0)),
          (error: AppError) => error.code === "conflict" && error.field === "username",
        );
      }
    });
    await t.step("an email already held, in another case, is a conflict on email", () => {
      assert.throws(
        () => run(createUser(user("bob", "ALICE@TEST.COM"), T0)),
        (error: AppError) => error.code === "conflict" && error.field === "email",
      );
      assert.equal(rows("SELECT id FROM users").length, 1, "a refused user leaves no row");
    });
  });
});

Deno.test("findUser() prefers the exact name, then the one with the same comparison key", async () => {
  await withProgramDatabase(({ run }) => {
    const alice = run(createUser(user("Alice"), T0));
    assert.equal(run(findUser("Alice"))?.id, alice.id);
    assert.equal(run(findUser("aLiCe"))?.id, alice.id);
    assert.equal(run(findUser("ａｌｉｃｅ"))?.id, alice.id);
    assert.equal(run(findUser("alicia")), null);
  });
});

Deno.test("upsertUser() replaces the password of the user with the same name, keeping its spelling", async () => {
  await withProgramDatabase(({ run, rows }) => {
    const alice = run(createUser(user("Alice"), T0));
    const updated = run(upsertUser(user("ALICE", null, "$argon2id$h2"), T0 + 1000));
    assert.equal(updated.id, alice.id);
    assert.equal(updated.username, "Alice");
    assert.equal(updated.passwordHash, "$argon2id$h2");
    assert.equal(updated.email, "Alice@test.com", "no email given keeps the stored one");
    const moved = run(upsertUser(user("alice", "new@test.com", "$argon2id$h3"), T0));
    assert.equal(moved.email, "new@test.com");
    assert.equal(run(findUser("alice"))?.email, "new@test.com");
    const bob = run(upsertUser(user("bob"), T0));
    assert.notEqual(bob.id, alice.id, "an unknown name is created");
    assert.throws(() => run(upsertUser(user("bob", "NEW@test.com"), T0)), (error: AppError) => error.field === "email");
    assert.equal(rows("SELECT id FROM users").length, 2);
  });
});
