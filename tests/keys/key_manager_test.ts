import assert from "node:assert/strict";
import { keyState } from "../../lib/core/key_lifecycle.ts";
import { lifecyclePolicy } from "../../lib/core/key_policy.ts";
import { createSealer, secretCheck } from "../../lib/core/seal.ts";
import type { KeyEvent } from "../../lib/keys/key_events.ts";
import { KeyManager } from "../../lib/keys/key_manager.ts";
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

Deno.test("adopt() stores the server's policy, and re-plans the keys when a start brings another", async (t) => {
  await withFile(async (path) => {
    const clock = testClock();
    const daily = lifecyclePolicy({ rotationInterval: 86_400, alg: "ES256" });
    const fast = lifecyclePolicy({ rotationInterval: 120, tokenTtl: 60, alg: "ES256" });
    const start = async (p: typeof policy) => {
      const store = openSqliteStore(path, { secret: secretCheck(sealer) });
      const events: KeyEvent[] = [];
      const keys = new KeyManager({
        store,
        sealer,
        policy: p,
        clock,
        generate: freshKey,
        onEvent: (e) => events.push(e),
        origin: "serve (test)",
      });
      await keys.adopt();
      return { store, keys, events };
    };
    await t.step("a new database stores the policy it was made with, and says nothing of it", async () => {
      const { store, events } = await start(daily);
      assert.equal((await store.keyPolicy())!.rotationInterval, 86_400);
      assert.ok(!events.some((e) => e.event === "key_policy_changed"));
      await store.close();
    });
    clock.advance(3600_000);
    await t.step("a start with 2 min rotation: the change is logged and the next key signs at once", async () => {
      const { store, keys, events } = await start(fast);
      const changed = events.find((e) => e.event === "key_policy_changed");
      assert.ok(changed && changed.event === "key_policy_changed");
      assert.equal(changed.summary, "rotation interval 1d → 2m, token TTL 15m → 1m");
      const view = keys.view();
      const now = keys.now();
      assert.equal(view.active!.activatesAt, now, "the next key, published an hour ago, signs now");
      assert.equal(
        view.active!.retiresAt,
        now + 300 + 30,
        "its successor, published now, waits for copies of the JWKS cached under the old 5-minute max-age",
      );
      assert.equal(view.next!.retiresAt - view.next!.activatesAt, 120, "from then on every 2 minutes");
      const stored = (await store.keyPolicy())!;
      assert.equal(stored.rotationInterval, 120);
      assert.equal(stored.cachedUntil, keys.now() + 300, "copies of the old JWKS may live 5 more minutes");
      assert.deepEqual((await keys.adopt()).changed, false, "a second start with the same settings changes nothing");
      await store.close();
    });
  });
});

Deno.test("changes another process makes are reported with who made them and why; one's own once", async () => {
  await withFile(async (path) => {
    const clock = testClock();
    const serverStore = openSqliteStore(path, { secret: secretCheck(sealer) });
    const cliStore = openSqliteStore(path, { secret: secretCheck(sealer) });
    const seen: KeyEvent[] = [];
    const server = new KeyManager({
      store: serverStore,
      sealer,
      policy,
      clock,
      generate: freshKey,
      onEvent: (e) => seen.push(e),
      origin: "serve (pid 1)",
    });
    await server.adopt();
    const cli = new KeyManager({
      store: cliStore,
      sealer,
      policy,
      clock,
      generate: freshKey,
      origin: "keys revoke (pid 2)",
    });
    await cli.sync();
    const next = server.view().next!.kid;
    seen.length = 0;
    await cli.apply({ kind: "revoke", kid: next });
    await server.sync();
    const revoked = seen.find((e) => e.event === "key_revoked");
    assert.deepEqual(revoked, {
      event: "key_revoked",
      kid: next,
      revokedAt: server.now(),
      by: "keys revoke (pid 2)",
      reason: "revoke",
    });
    assert.ok(seen.some((e) => e.event === "key_created" && e.by === "keys revoke (pid 2)"), "its replacement too");
    seen.length = 0;
    await server.apply({ kind: "rotate" }, { via: "admin API" });
    const own = seen.length;
    assert.ok(own > 0);
    assert.ok(seen.every((e) => !("by" in e)), "its own changes carry no source");
    await server.sync(true);
    assert.equal(seen.length, own, "and are not reported again when it reloads");
    const [note] = await cliStore.keyChanges((await cliStore.keysVersion()) - 1);
    assert.equal(note!.origin, "serve (pid 1) via admin API");
    await serverStore.close();
    await cliStore.close();
  });
});
