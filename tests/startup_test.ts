import assert from "node:assert/strict";
import { AppError } from "../lib/core/errors.ts";
import { EMPTY_COPY_WARNING } from "../lib/ops/banner.ts";
import { banner, bind, connectionLimits, defaultHasher, defaultSigning } from "../lib/startup.ts";
import { captureLog, testConfig, withApp } from "./support/helpers.ts";
import { keyParts } from "./signing/support.ts";

Deno.test("bind() runs serve; a port it cannot have is one line naming it, and nothing else runs", async (t) => {
  await t.step("success is what serve returned", () => {
    assert.equal(bind(testConfig(), () => 42), 42);
  });
  await t.step("a port in use, with a real listener holding it", () => {
    const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (holder.addr as Deno.NetAddr).port;
    let afterwards = false;
    try {
      assert.throws(
        () => {
          bind(
            testConfig({ port: String(port), hostname: "127.0.0.1" }),
            () => Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, () => new Response()),
          );
          afterwards = true;
        },
        (error: AppError) =>
          error.code === "unavailable" &&
          error.message === `Port 127.0.0.1:${port} is in use (another server?); choose another with --port`,
      );
      assert.equal(afterwards, false, "the failure stops the start-up before anything else");
    } finally {
      holder.close();
    }
  });
  await t.step("an address this host does not have names --hostname", () => {
    assert.throws(
      () =>
        bind(testConfig({ hostname: "192.0.2.1", port: "8080" }), () => {
          throw new Deno.errors.AddrNotAvailable("cannot assign requested address");
        }),
      (error: AppError) => error.message === "Cannot listen on 192.0.2.1:8080: no such address here; check --hostname",
    );
  });
  await t.step("any other failure passes through unchanged", () => {
    const failure = new Deno.errors.PermissionDenied("no");
    assert.throws(() =>
      bind(testConfig(), () => {
        throw failure;
      }), (error: unknown) => error === failure);
  });
});

Deno.test("connectionLimits() takes the configured cap or one under the descriptor limit, and warns when it does not fit", async (t) => {
  await t.step("the settings' timeouts and an explicit cap pass through", () => {
    const log = captureLog();
    const config = testConfig({ "max-connections": "100" });
    const limits = connectionLimits(config, 4096, log);
    assert.deepEqual(limits, {
      maxConnections: 100,
      headerTimeoutMs: config.headerTimeout,
      idleTimeoutMs: config.idleTimeout,
      bodyTimeoutMs: config.bodyTimeout,
    });
    assert.deepEqual(log.lines, []);
  });
  await t.step("no cap: one that leaves room under the descriptor limit", () => {
    const log = captureLog();
    const limits = connectionLimits(testConfig(), 256, log);
    assert.ok(limits.maxConnections <= 256 - 64, String(limits.maxConnections));
    assert.deepEqual(log.lines, []);
  });
  await t.step("a cap above the descriptor limit minus 64 is kept, with a warning naming both", () => {
    const log = captureLog();
    assert.equal(connectionLimits(testConfig({ "max-connections": "1000" }), 1024, log).maxConnections, 1000);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]!.msg, "max_connections_above_descriptor_limit");
    assert.equal(log.lines[0]!.maxConnections, 1000);
    assert.equal(log.lines[0]!.descriptorLimit, 1024);
  });
  await t.step("an unknown descriptor limit never warns", () => {
    const log = captureLog();
    connectionLimits(testConfig({ "max-connections": "100000" }), null, log);
    assert.deepEqual(log.lines, []);
  });
});

Deno.test("defaultSigning() chooses a backend that signs, and logs which one with its library and algorithms", async () => {
  const log = captureLog();
  const backend = defaultSigning(log);
  try {
    const line = log.lines.find((entry) => entry.msg === "signing_backend")!;
    assert.equal(line.backend, backend.name);
    assert.equal(line.library, backend.library);
    assert.ok(Array.isArray(line.algs));
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const signer = await backend.importKey(keyParts(jwk), "ES256");
    const data = new TextEncoder().encode("a.b");
    const signature = await signer.sign(data);
    assert.ok(
      await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        pair.publicKey,
        signature as Uint8Array<ArrayBuffer>,
        data,
      ),
    );
    signer.close?.();
  } finally {
    backend.close?.();
  }
});

Deno.test("defaultHasher() hashes with Argon2id in-thread until armed, and says nothing when all is well", async () => {
  const log = captureLog();
  const hasher = defaultHasher(log);
  try {
    const hash = await hasher.hash("correct horse");
    assert.match(hash, /^\$argon2id\$/);
    assert.equal(await hasher.verify(hash, "correct horse"), true);
    assert.equal(await hasher.verify(hash, "wrong"), false);
    assert.deepEqual(log.lines.filter((line) => line.level === "warn"), []);
  } finally {
    hasher.close();
  }
});

Deno.test("banner() shows the server as started and warns about a weak secret and an incomplete copy", async () => {
  await withApp({}, (app) => {
    const text = banner(app.config, app, "http://127.0.0.1:8080", {
      secret: "x",
      source: "env",
      file: null,
      weak: true,
    }, false);
    assert.match(text, /http:\/\/127\.0\.0\.1:8080/);
    assert.match(text, /ES256, each key signs/);
    assert.match(text, /NOT_MY_KEY is shorter than 16 bytes/);
    assert.ok(!text.includes(EMPTY_COPY_WARNING), "the copy warning needs a development secret file");
    assert.ok(!text.includes("\x1b["), "no colour unless asked");
    const dev = banner(app.config, app, "http://127.0.0.1:8080", {
      secret: "a long enough development secret",
      source: "file",
      file: "/tmp/keys.db.secret",
      weak: false,
    }, true);
    assert.ok(dev.includes("/tmp/keys.db.secret"));
    assert.equal(dev.includes(EMPTY_COPY_WARNING), app.store.created);
    assert.ok(!dev.includes("shorter than 16 bytes"));
    assert.ok(dev.includes("\x1b["));
  });
});
