import assert from "node:assert/strict";
import { keyState } from "../../lib/core/key_lifecycle.ts";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import { type KeyEvent, KeyManager } from "../../lib/keys/key_manager.ts";
import { type Store } from "../../lib/store/ports.ts";
import { openSqliteStore } from "../../lib/store/sqlite.ts";
import { freshKey, testClock, withTempDir } from "../support/helpers.ts";

const sealer = createSealer("key manager test secret");
const policy = lifecyclePolicy({ rotationInterval: 600, tokenTtl: 60, clockSkew: 10, alg: "ES256" });

function manager(store: Store, clock = testClock(), events: KeyEvent[] = []) {
  return new KeyManager({ store, sealer, policy, clock, generate: freshKey, onEvent: (e) => events.push(e) });
}

async function withFile(fn: (path: string) => Promise<void>) {
  await withTempDir(async (dir) => {
    await fn(`${dir}/keys.db`);
  });
}

Deno.test("first apply() creates an active, a next and an expired key, and reports them", async () => {
  const store = openSqliteStore(":memory:", { secret: secretCheck(sealer) });
  const events: KeyEvent[] = [];
  const keys = manager(store, testClock(), events);
  const result = await keys.apply();
  assert.equal(result.changed, true);
  assert.deepEqual(events.map((e) => e.event), ["key_created", "key_created", "key_created"]);
  const view = keys.view();
  assert.notEqual(view.active, null);
  assert.notEqual(view.next, null);
  assert.notEqual(view.expired, null);
  assert.equal(view.jwks.keys.length, 2);
  assert.deepEqual((await keys.apply()).changed, false, "idempotent");
  await store.close();
});

Deno.test("two processes bootstrapping one database at once create the keys only once", async () => {
  await withFile(async (path) => {
    const stores = [0, 1, 2].map(() => openSqliteStore(path, { secret: secretCheck(sealer) }));
    const clock = testClock();
    const managers = stores.map((store) => manager(store, clock));
    await Promise.all(managers.map((m) => m.apply()));
    const rows = await stores[0]!.listKeys();
    assert.equal(rows.length, 3, "no duplicate bootstrap");
    const now = Math.floor(clock() / 1000);
    assert.equal(rows.filter((key) => keyState(key, now) === "active").length, 1);
    const kids = managers.map((m) => m.view().active?.kid);
    assert.equal(new Set(kids).size, 1, "every process signs with the same key");
    for (const store of stores) await store.close();
  });
});

Deno.test("a rotation made by another process is picked up by sync()", async () => {
  await withFile(async (path) => {
    const clock = testClock();
    const serverStore = openSqliteStore(path, { secret: secretCheck(sealer) });
    const cliStore = openSqliteStore(path, { secret: secretCheck(sealer) });
    const server = manager(serverStore, clock);
    await server.apply();
    const before = server.view().jwks.etag;
    assert.equal(await server.sync(), false, "nothing changed yet");
    const events: KeyEvent[] = [];
    const cli = manager(cliStore, clock, events);
    await cli.apply({ kind: "rotate" });
    assert.ok(events.some((e) => e.event === "key_created"));
    assert.equal(await server.sync(), true);
    assert.notEqual(server.view().jwks.etag, before, "the JWKS changed");
    assert.deepEqual(server.view().jwks.keys.map((k) => k.kid), cli.view().jwks.keys.map((k) => k.kid));
    await serverStore.close();
    await cliStore.close();
  });
});

Deno.test("activation and retirement are reported when the clock crosses the boundary", async () => {
  const store = openSqliteStore(":memory:", { secret: secretCheck(sealer) });
  const clock = testClock();
  const events: KeyEvent[] = [];
  const keys = manager(store, clock, events);
  await keys.apply();
  const { active, next } = keys.view();
  events.length = 0;
  clock.set(active!.retiresAt * 1000);
  keys.view();
  assert.deepEqual(events, [
    { event: "key_retired", kid: active!.kid, retiredAt: active!.retiresAt, exp: active!.exp },
    {
      event: "key_activated",
      kid: next!.kid,
      alg: "ES256",
      activatedAt: next!.activatesAt,
      retiresAt: next!.retiresAt,
    },
  ]);
  await store.close();
});

Deno.test("revoke and rescheduling are reported with the kid", async () => {
  const store = openSqliteStore(":memory:", { secret: secretCheck(sealer) });
  const events: KeyEvent[] = [];
  const clock = testClock();
  const keys = manager(store, clock, events);
  await keys.apply();
  const active = keys.view().active!;
  events.length = 0;
  await keys.apply({ kind: "revoke", kid: active.kid });
  const now = Math.floor(clock() / 1000);
  assert.deepEqual(events.find((e) => e.event === "key_revoked"), {
    event: "key_revoked",
    kid: active.kid,
    revokedAt: now,
  });
  assert.ok(events.some((e) => e.event === "key_rescheduled"), "the next key moved up");
  assert.ok(events.some((e) => e.event === "key_created"), "a new next key was published");
  assert.notEqual(keys.view().active!.kid, active.kid);
  await store.close();
});

Deno.test("a key that does not open leaves the ring as it was and fails loudly", async () => {
  await withFile(async (path) => {
    const store = openSqliteStore(path, { secret: secretCheck(sealer) });
    const keys = manager(store);
    await keys.apply();
    const before = keys.view();
    const other = new KeyManager({
      store,
      sealer: createSealer("a different secret"),
      policy,
      clock: testClock(),
      generate: freshKey,
    });
    await assert.rejects(other.sync(), /does not open/);
    assert.equal(keys.view(), before);
    await store.close();
  });
});
