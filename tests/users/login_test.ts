import assert from "node:assert/strict";
import { AppError } from "../../lib/core/errors.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { LoginBackoff } from "../../lib/users/backoff.ts";
import { type AuthMode, type LoginFailure, loginPolicy } from "../../lib/users/login.ts";
import { UserService } from "../../lib/users/users.ts";
import { argon2AtMinimumCost, T0 } from "../support/helpers.ts";

/** A policy for `mode` over real users (alice is registered), and the failures it reported. */
async function withPolicy(
  mode: AuthMode,
  fn: (policy: ReturnType<typeof loginPolicy>, alice: { id: number; password: string }) => Promise<void>,
) {
  const store = openSqliteStore(":memory:", { secret: secretCheck(createSealer("login test secret")) });
  const backoff = new LoginBackoff({ freeFailures: 2, baseMs: 1000, maxMs: 4000, maxEntries: 10 });
  const users = new UserService({ store, hasher: argon2AtMinimumCost, backoff });
  const { user, password } = await users.register("alice", "alice@example.com", T0);
  try {
    await fn(loginPolicy({ mode, users }), { id: user.id, password });
  } finally {
    await store.close();
  }
}

const unauthorized = (message: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === "unauthorized" && message.test(error.message);

Deno.test("password mode: only a registered user with its password gets a token", async (t) => {
  await withPolicy("password", async (policy, alice) => {
    await t.step("the right password: the user's name and id", async () => {
      assert.equal(policy.mode, "password");
      assert.deepEqual(await policy.authenticate({ username: "alice", password: alice.password }, T0), {
        subject: "alice",
        userId: alice.id,
      });
    });
    await t.step("a wrong password or an unknown user: the same 401", async () => {
      for (const credentials of [{ username: "alice", password: "nope" }, { username: "mallory", password: "x" }]) {
        await assert.rejects(policy.authenticate(credentials, T0), unauthorized(/^Invalid username or password$/));
      }
    });
    await t.step("missing credentials: a 401 that says what to send", async () => {
      for (
        const credentials of [{}, { username: "alice" }, { password: alice.password }, { username: "", password: "x" }]
      ) {
        await assert.rejects(
          policy.authenticate(credentials, T0 + 60_000),
          unauthorized(
            /^Send a username and password \(JSON, form or Basic\); to get one, POST \/register .*--auth open/,
          ),
          JSON.stringify(credentials),
        );
      }
    });
  });
});

Deno.test("open mode: anyone gets a token, but a registered name needs its own password", async () => {
  await withPolicy("open", async (policy, alice) => {
    assert.deepEqual(await policy.authenticate({}, T0), { subject: "anonymous", userId: null });
    assert.deepEqual(await policy.authenticate({ username: "" }, T0), { subject: "anonymous", userId: null });
    assert.deepEqual(await policy.authenticate({ username: "mallory", password: "anything" }, T0), {
      subject: "mallory",
      userId: null,
    });
    await assert.rejects(policy.authenticate({ username: "alice" }, T0), unauthorized(/Invalid username/));
    await assert.rejects(
      policy.authenticate({ username: "alice", password: "guess" }, T0),
      unauthorized(/Invalid username/),
    );
    assert.deepEqual(await policy.authenticate({ username: "alice", password: alice.password }, T0), {
      subject: "alice",
      userId: alice.id,
    });
  });
  await withPolicy("open", async (policy, alice) => {
    await assert.rejects(policy.authenticate({ username: "ALICE" }, T0), unauthorized(/Invalid username/));
    assert.deepEqual(await policy.authenticate({ username: "ALICE", password: alice.password }, T0), {
      subject: "alice",
      userId: alice.id,
    }, "another spelling of a registered name is that user, never a free subject");
    for (const bad of ["a\u0000b", "esc\u001b[31m", "evil\u202etxt.exe", "zero\u200bwidth", "x".repeat(256)]) {
      await assert.rejects(
        policy.authenticate({ username: bad }, T0),
        (error: AppError) => error.code === "invalid_field" && error.field === "username",
        JSON.stringify(bad.slice(0, 20)),
      );
    }
    assert.equal((await policy.authenticate({ username: "José Müller 李" }, T0)).subject, "José Müller 李");
  });
  const storeless = loginPolicy({ mode: "open", users: null });
  assert.deepEqual(await storeless.authenticate({ username: "alice" }, T0), { subject: "alice", userId: null });
  await assert.rejects(
    loginPolicy({ mode: "password", users: null }).authenticate({ username: "a", password: "b" }, T0),
    unauthorized(/^Send a username and password/),
  );
});

Deno.test("every failed login is reported once, by reason", async () => {
  const store = openSqliteStore(":memory:", { secret: secretCheck(createSealer("login test secret")) });
  try {
    const backoff = new LoginBackoff({ freeFailures: 1, baseMs: 1000, maxMs: 4000, maxEntries: 10 });
    const users = new UserService({ store, hasher: argon2AtMinimumCost, backoff });
    await users.register("alice", "alice@example.com", T0);
    const reasons: LoginFailure[] = [];
    const policy = loginPolicy({ mode: "password", users, onFailure: (reason) => reasons.push(reason) });
    await assert.rejects(policy.authenticate({ username: "alice" }, T0));
    await assert.rejects(policy.authenticate({ username: "alice", password: "bad" }, T0));
    await assert.rejects(policy.authenticate({ username: "alice", password: "bad" }, T0));
    await assert.rejects(
      policy.authenticate({ username: "alice", password: "bad" }, T0 + 10),
      (error: AppError) => error.code === "too_many_attempts",
    );
    assert.deepEqual(reasons, ["missing_credentials", "invalid_credentials", "invalid_credentials", "locked_out"]);
  } finally {
    await store.close();
  }
});
