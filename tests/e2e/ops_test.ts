/**
 * Operations against the real program (a subprocess on an ephemeral port): graceful shutdown
 * under load, readiness following the database file, the log stream (format, one line per
 * request, lifecycle events, no secrets), and a change of algorithm across a restart seen by a
 * discovery client.
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { waitFor, withTempDir } from "../support/helpers.ts";
import { parseMetrics, sampleValue } from "../support/prometheus.ts";
import { scenario, type StartedServer, startServer, withServer } from "../support/server_process.ts";

const DB = "totally_not_my_privateKeys.db";

function logLines(server: StartedServer): Record<string, unknown>[] {
  return server.lines.filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}

async function inFlight(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  return sampleValue(parseMetrics(await response.text()), "jwks_http_requests_in_flight") ?? 0;
}

scenario(
  "SIGTERM with 50 requests in flight: all 50 complete, the process exits 0 and the database is intact",
  async () => {
    const password = "shutdown test password 1";
    await withServer({
      env: { NOT_MY_KEY: "shutdown test master secret 0123" },
      args: ["--seed-user", `alice:${password}`, "--rate-limit", "off", "--hash-concurrency", "1"],
    }, async (server, cwd) => {
      // Each login sends the first half of its body, then waits: the server is inside the
      // handler, reading the body, when the signal arrives. The second half (and an Argon2
      // verification queued behind a one-slot hasher) comes after the signal.
      const encoder = new TextEncoder();
      const senders: ReadableStreamDefaultController<Uint8Array>[] = [];
      const responses = Array.from({ length: 50 }, () => {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            senders.push(controller);
            controller.enqueue(encoder.encode('{"username":"alice",'));
          },
        });
        return fetch(`${server.url}/auth`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
      });
      await waitFor("50 requests in flight", async () => await inFlight(server.url) >= 51);

      server.child.kill("SIGTERM");
      await waitFor("the shutting_down log line", () => server.lines.some((line) => line.includes('"shutting_down"')));
      // New work is refused while the requests in flight finish.
      const client = Deno.createHttpClient({});
      try {
        const refused = await fetch(`${server.url}/healthz`, { client });
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get("retry-after"), "1");
        assert.equal((await refused.json()).error, "unavailable");
      } finally {
        client.close();
      }
      for (const sender of senders) {
        sender.enqueue(encoder.encode(JSON.stringify({ password }).replace("{", "")));
        sender.close();
      }
      const answered = await Promise.all(responses);
      const bodies = await Promise.all(answered.map((response) => response.json()));
      assert.deepEqual(answered.map((response) => response.status), Array(50).fill(200));
      assert.ok(bodies.every((body) => typeof body.token === "string"));

      const status = await server.exited;
      assert.equal(status.code, 0, server.stderr());
      const events = logLines(server).map((line) => line.msg);
      assert.ok(events.includes("stopped"));
      assert.ok(!events.includes("shutdown_deadline_passed"));

      await assert.rejects(Deno.stat(`${cwd}/${DB}-wal`), Deno.errors.NotFound, "the WAL was checkpointed on close");
      const db = new DatabaseSync(`${cwd}/${DB}`, { readOnly: true });
      try {
        assert.deepEqual(db.prepare("PRAGMA integrity_check").all().map((row) => row.integrity_check), ["ok"]);
        const { n } = db.prepare("SELECT COUNT(*) AS n FROM auth_logs").get() as { n: number };
        assert.equal(n, 50, "every login was written to auth_logs before exit");
      } finally {
        db.close();
      }
    });
  },
);

scenario(
  "the real server's /readyz goes 503 when the database file is moved away and 200 when it returns",
  async () => {
    await withServer({ env: { NOT_MY_KEY: "readyz test master secret 01234" } }, async (server, cwd) => {
      const ready = async () => {
        const response = await fetch(`${server.url}/readyz`);
        return { status: response.status, body: await response.json() };
      };
      assert.equal((await ready()).status, 200);
      await Deno.rename(`${cwd}/${DB}`, `${cwd}/elsewhere.db`);
      const down = await ready();
      assert.equal(down.status, 503);
      assert.match(down.body.message, /Database file is missing/);
      await assert.rejects(Deno.stat(`${cwd}/${DB}`), Deno.errors.NotFound, "the check creates no empty database");
      await Deno.rename(`${cwd}/elsewhere.db`, `${cwd}/${DB}`);
      assert.equal((await ready()).status, 200);
      assert.equal(await server.stop(), 0);

      const events = logLines(server).map((line) => line.msg).filter((msg) => String(msg).startsWith("database_"));
      assert.deepEqual(events, ["database_unavailable", "database_available"], "the outage is logged once");
    });
  },
);

scenario(
  "logs are JSON lines, one per request and per key event, and never hold a secret, password or token",
  async () => {
    const secrets = {
      master: "master secret that must not leak 7f3a",
      admin: "admin token that must not leak 9c1e",
      seeded: "Seeded-Passw0rd-must-not-leak",
      grader: `Bearer ${"5a".repeat(32)}`,
    };
    await withServer({
      env: { NOT_MY_KEY: secrets.master, ADMIN_TOKEN: secrets.admin, LOG_LEVEL: "debug" },
      args: ["--seed-user", `seeduser:${secrets.seeded}`],
    }, async (server) => {
      const leaks: string[] = Object.values(secrets);
      const sent: string[] = [];
      let n = 0;
      const call = async (path: string, init: RequestInit = {}) => {
        const id = `req-${++n}`;
        sent.push(id);
        const response = await fetch(`${server.url}${path}`, {
          ...init,
          headers: { authorization: secrets.grader, ...init.headers, "x-request-id": id },
        });
        const text = await response.text();
        return { status: response.status, json: text.startsWith("{") ? JSON.parse(text) : null };
      };
      const token = (answer: { status: number; json: { token?: string } | null }) => {
        assert.equal(answer.status, 200);
        leaks.push(answer.json!.token!, answer.json!.token!.split(".")[2]!);
        return answer.json!.token!;
      };
      const registered = await call("/register", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "erin", email: "erin@example.com" }),
      });
      assert.equal(registered.status, 201);
      const generated: string = registered.json.password;
      leaks.push(generated);
      const basic = `Basic ${btoa(`erin:${generated}`)}`;
      leaks.push(basic, btoa(`erin:${generated}`));
      token(
        await call("/auth", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "seeduser", password: secrets.seeded }),
        }),
      );
      token(
        await call("/auth", { method: "POST", body: new URLSearchParams({ username: "erin", password: generated }) }),
      );
      token(await call("/auth?expired=true", { method: "POST", headers: { authorization: basic } }));
      const wrong = await call(`/auth?password=${encodeURIComponent(secrets.seeded)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "seeduser", password: `${secrets.seeded}-wrong` }),
      });
      assert.equal(wrong.status, 401);
      leaks.push(`${secrets.seeded}-wrong`);
      await call("/jwks");
      await call("/metrics");
      await call(`/nowhere/${secrets.admin.length}`);
      assert.equal(await server.stop(), 0);

      const output = server.lines.join("\n") + server.stderr();
      for (const leak of leaks) assert.ok(!output.includes(leak), `the log holds ${leak.slice(0, 12)}…`);

      const lines = logLines(server);
      for (const line of lines) {
        assert.equal(typeof line.time, "string");
        assert.ok(!Number.isNaN(Date.parse(String(line.time))));
        assert.ok(["debug", "info", "warn", "error"].includes(String(line.level)));
        assert.equal(typeof line.msg, "string");
      }
      const requests = lines.filter((line) => line.msg === "request");
      assert.deepEqual(requests.map((line) => line.requestId).sort(), [...sent].sort(), "one line per request");
      for (const line of requests) {
        for (const field of ["method", "path", "route", "status", "ms", "ip", "requestId"]) {
          assert.ok(line[field] !== undefined, `${field} in ${JSON.stringify(line)}`);
        }
        assert.equal(line.ip, "127.0.0.1");
      }
      const created = lines.filter((line) => line.msg === "key_created");
      assert.equal(created.length, 3, "the first start creates an active, a next and an expired key");
      for (const line of created) {
        assert.equal(typeof line.kid, "string");
        assert.equal(typeof line.activatesAt, "number");
        assert.equal(typeof line.exp, "number");
      }
      for (const msg of ["user_seeded", "listening", "shutting_down", "stopped"]) {
        assert.ok(lines.some((line) => line.msg === msg), msg);
      }
    });
  },
);

scenario(
  "after a restart with another --alg both key types are published and a discovery client verifies old tokens",
  async () => {
    await withTempDir(async (cwd) => {
      const env = { NOT_MY_KEY: "alg change test master secret 012" };
      const first = await startServer({ cwd, env, args: ["--auth", "open"] });
      const before = (await (await fetch(`${first.url}/auth`, { method: "POST" })).json()).token;
      assert.equal(decodeProtectedHeader(before).alg, "RS256");
      assert.equal(await first.stop(), 0);

      const second = await startServer({ cwd, env, args: ["--auth", "open", "--alg", "ES256"] });
      try {
        const doc = await (await fetch(`${second.url}/.well-known/openid-configuration`)).json();
        const keys = (await (await fetch(doc.jwks_uri)).json()).keys as Record<string, string>[];
        assert.deepEqual([...new Set(keys.map((key) => key.alg))].sort(), ["ES256", "RS256"]);
        const jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
        await jwtVerify(before, jwks);
        const after = (await (await fetch(`${second.url}/auth`, { method: "POST" })).json()).token;
        assert.equal(decodeProtectedHeader(after).alg, "RS256", "the ES256 key waits for the lead time");
        await jwtVerify(after, jwks);
        const events = logLines(second).filter((line) => String(line.msg).startsWith("key_"));
        assert.ok(events.some((line) => line.msg === "key_created" && line.alg === "ES256"));
        assert.ok(events.some((line) => line.msg === "key_revoked"), "the waiting RS256 key is withdrawn");
      } finally {
        await second.stop();
      }
    });
  },
);
