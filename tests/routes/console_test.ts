import { createRouter, type Route } from "../../lib/http/router.ts";
import assert from "node:assert/strict";
import { CONSOLE_JS } from "../../lib/console/script.ts";
import { CONSOLE_CSS } from "../../lib/console/style.ts";
import { CONSOLE_CSP, type ConsoleDeps, consoleRoutes } from "../../lib/routes/console.ts";
import { keyInfo } from "../../lib/keys/key_reports.ts";
import { from, type TestApp, testApp } from "../support/helpers.ts";

/** Fast keys: nothing here depends on the algorithm. */
const ES256 = { alg: "ES256" };

function deps(app: TestApp, extra: Partial<ConsoleDeps> = {}): ConsoleDeps {
  return { keys: app.keys, store: app.store, issuer: app.config.issuer, authMode: app.config.authMode, ...extra };
}

/** Answers `GET path` from `routes` alone, through the edge's router. */
async function get(routes: Route[], path: string, headers: Record<string, string> = {}): Promise<Response> {
  const request = new Request(`http://127.0.0.1:8080${path}`, {
    headers: { "x-request-id": "test-request", ...headers },
  });
  return await createRouter(routes)(request, from());
}

/** kid → state of every published key, from the store. */
async function published(app: TestApp): Promise<Map<string, string>> {
  const now = app.keys.now();
  const infos = (await app.store.listKeys()).map((record) => keyInfo(record, now)).filter((info) => info.published);
  return new Map(infos.map((info) => [info.kid, info.status]));
}

function assertSecurityHeaders(response: Response): void {
  assert.equal(response.headers.get("content-security-policy"), CONSOLE_CSP);
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.equal(response.headers.get("x-request-id"), "test-request");
}

Deno.test("consoleRoutes serves the page, its two assets, the schedule and the key fragment", () => {
  const routes = consoleRoutes({
    keys: { view: () => assert.fail("no view at construction"), now: () => 0 },
    store: { listKeys: () => assert.fail("no read at construction") },
    issuer: "http://127.0.0.1:8080",
    authMode: "open",
  });
  assert.deepEqual(routes.map((route) => [route.path, Object.keys(route.methods)]), [
    ["/", ["GET"]],
    ["/console/console.js", ["GET"]],
    ["/console/console.css", ["GET"]],
    ["/console/keys.json", ["GET"]],
    ["/console/keys.html", ["GET"]],
  ]);
});

Deno.test("GET / renders the whole console on the server, under a strict CSP", async (t) => {
  const app = await testApp(ES256);
  try {
    const routes = consoleRoutes(deps(app));
    const response = await get(routes, "/");
    const page = await response.text();

    await t.step("status, type, caching and the security headers", () => {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(response.headers.get("cache-control"), "no-store");
      assertSecurityHeaders(response);
      assert.ok(page.startsWith("<!doctype html>"));
    });

    await t.step("every published key is listed and drawn in its state", async () => {
      const states = await published(app);
      assert.deepEqual([...states.values()].sort(), ["active", "next"]);
      for (const [kid, state] of states) {
        assert.ok(page.includes(`<li class="key-item state-${state}" data-kid="${kid}" data-state="${state}">`), kid);
        assert.ok(page.includes(`<g class="key state-${state}" data-kid="${kid}" data-state="${state}">`), kid);
      }
      const expiredKid = app.keys.view().expired!.kid;
      assert.ok(!page.includes(expiredKid), "the expired key kept for ?expired=true is not shown");
    });

    await t.step("no inline script, no inline style: only same-origin files", () => {
      const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.equal(scripts.length, 1);
      assert.match(scripts[0]![1]!, /src="\/console\/console\.js\?v=[A-Za-z0-9_-]{16}"/);
      assert.equal(scripts[0]![2], "");
      assert.match(page, /<link rel="stylesheet" href="\/console\/console\.css\?v=[A-Za-z0-9_-]{16}">/);
      assert.ok(!/<style\b|\sstyle="|\son[a-z]+="/i.test(page), "no <style>, style= or on…= handler");
    });

    await t.step("open mode has the get-a-token form, posting to /auth without JavaScript too", () => {
      assert.match(page, /<form id="get-token" method="post" action="\/auth">/);
      assert.match(page, /open mode \(mock issuer\)/);
    });

    await t.step("the issuer and its endpoints, and the decoder", () => {
      assert.ok(page.includes(`<code>${app.config.issuer}</code>`));
      assert.ok(page.includes(`<a href="${app.config.issuer}/.well-known/jwks.json">`));
      assert.match(page, /<textarea id="jwt"/);
      assert.match(page, /the token never leaves this page/);
    });
  } finally {
    await app.close();
  }
});

Deno.test("in password mode the console offers no token button", async () => {
  const app = await testApp({ ...ES256, auth: "password" });
  try {
    const page = await (await get(consoleRoutes(deps(app)), "/")).text();
    assert.ok(!page.includes('id="get-token"'));
    assert.match(page, /password mode/);
    assert.match(page, /<textarea id="jwt"/);
  } finally {
    await app.close();
  }
});

Deno.test("the endpoint list shows the issuer and every URL discovery names, escaped", async () => {
  const app = await testApp(ES256);
  try {
    const discovery = () =>
      Promise.resolve({
        issuer: "https://id.example",
        jwks_uri: "https://id.example/jwks",
        token_endpoint: 'https://id.example/token?a=1&b="2"',
        claims_supported: ["sub"],
        userinfo_endpoint: 42,
        service_documentation: "https://id.example/docs",
      });
    const page = await (await get(consoleRoutes(deps(app, { discovery })), "/")).text();
    const names = [...page.matchAll(/<dt>([a-z_]+)<\/dt>/g)].map((match) => match[1]);
    assert.deepEqual(names.filter((name) => name!.includes("_") || name === "issuer"), [
      "issuer",
      "jwks_uri",
      "token_endpoint",
    ]);
    assert.ok(page.includes("https://id.example/token?a=1&amp;b=&quot;2&quot;"));
  } finally {
    await app.close();
  }
});

Deno.test("GET /console/keys.json is the public schedule, with a weak ETag that makes polling a 304", async (t) => {
  const app = await testApp(ES256);
  try {
    const routes = consoleRoutes(deps(app));
    const first = await get(routes, "/console/keys.json");
    const etag = first.headers.get("etag")!;
    const body = await first.json() as { now: number; keys: Record<string, unknown>[] };

    await t.step("what it says: now, and per key kid, alg, state and its times", async () => {
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("content-type"), "application/json");
      assert.equal(first.headers.get("cache-control"), "no-cache");
      assertSecurityHeaders(first);
      assert.match(etag, /^W\/"/);
      assert.equal(body.now, app.keys.now());
      const states = await published(app);
      assert.deepEqual(body.keys.map((key) => [key.kid, key.state]).sort(), [...states].sort());
      for (const key of body.keys) {
        assert.deepEqual(Object.keys(key), ["kid", "alg", "state", "publishedAt", "activatesAt", "retiresAt", "exp"]);
      }
    });

    await t.step("If-None-Match with the same ETag: 304, no body", async () => {
      app.clock.advance(5_000);
      const again = await get(routes, "/console/keys.json", { "if-none-match": etag });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get("etag"), etag);
      assert.equal(await again.text(), "");
    });

    await t.step("a rotation changes the ETag, and the old one gets the new schedule", async () => {
      app.clock.advance((app.config.policy.lead + 1) * 1000);
      await app.keys.apply({ kind: "rotate" });
      const after = await get(routes, "/console/keys.json", { "if-none-match": etag });
      assert.equal(after.status, 200);
      assert.notEqual(after.headers.get("etag"), etag);
      const states = (await after.json() as { keys: { state: string }[] }).keys.map((key) => key.state);
      assert.deepEqual(states, ["retired", "active", "next"]);
    });
  } finally {
    await app.close();
  }
});

Deno.test("the schedule is read from the store once per key view, and a failed read is retried", async (t) => {
  const app = await testApp(ES256);
  try {
    let reads = 0;
    let fail = false;
    const store = {
      listKeys: () => {
        reads++;
        return fail ? Promise.reject(new Error("database is gone")) : app.store.listKeys();
      },
    };
    const routes = consoleRoutes(deps(app, { store }));

    await t.step("many requests, one view: one read", async () => {
      for (const path of ["/", "/console/keys.json", "/console/keys.json", "/console/keys.html"]) {
        await (await get(routes, path)).body?.cancel();
      }
      assert.equal(reads, 1);
    });

    await t.step("a new view (the key set changed): one more read", async () => {
      await app.keys.apply({ kind: "rotate" });
      await (await get(routes, "/console/keys.json")).body?.cancel();
      await (await get(routes, "/console/keys.json")).body?.cancel();
      assert.equal(reads, 2);
    });

    await t.step("a read that fails fails the request and is not remembered", async () => {
      app.clock.advance((app.config.policy.lead + 1) * 1000);
      await app.keys.apply({ kind: "rotate" });
      fail = true;
      const failed = await get(routes, "/console/keys.json");
      assert.equal(failed.status, 500, "the edge answers a generic 500");
      assert.doesNotMatch(await failed.text(), /database is gone/);
      fail = false;
      assert.equal((await get(routes, "/console/keys.json")).status, 200);
      assert.equal(reads, 4);
    });
  } finally {
    await app.close();
  }
});

Deno.test("GET /console/keys.html is the key view the page swaps in, tagged with the same ETag", async () => {
  const app = await testApp(ES256);
  try {
    const routes = consoleRoutes(deps(app));
    const etag = (await get(routes, "/console/keys.json")).headers.get("etag")!;
    const fragment = await get(routes, "/console/keys.html");
    assert.equal(fragment.status, 200);
    assertSecurityHeaders(fragment);
    const text = await fragment.text();
    assert.ok(text.includes(`<div id="keys-view" data-etag="${etag.replaceAll('"', "&quot;")}"`));
    assert.ok(!text.includes("<html"));
    for (const kid of (await published(app)).keys()) assert.ok(text.includes(`data-kid="${kid}"`));
  } finally {
    await app.close();
  }
});

Deno.test("the script and the stylesheet are served as files, cached for good under hashed URLs", async (t) => {
  const app = await testApp(ES256);
  try {
    const routes = consoleRoutes(deps(app));
    const page = await (await get(routes, "/")).text();
    for (
      const [path, type, text] of [
        ["/console/console.js", "text/javascript; charset=utf-8", CONSOLE_JS],
        ["/console/console.css", "text/css; charset=utf-8", CONSOLE_CSS],
      ] as const
    ) {
      await t.step(path, async () => {
        const url = new RegExp(`${path.replaceAll(".", "\\.")}\\?v=[A-Za-z0-9_-]{16}`).exec(page)![0];
        const response = await get(routes, url);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("content-type"), type);
        assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
        assertSecurityHeaders(response);
        assert.equal(await response.text(), text);
        const again = await get(routes, url, { "if-none-match": response.headers.get("etag")! });
        assert.equal(again.status, 304);
      });
    }
  } finally {
    await app.close();
  }
});

Deno.test("the script talks only to this server, and sends a pasted token nowhere", () => {
  const fetched = [...CONSOLE_JS.matchAll(/fetch\(\s*"([^"]*)"/g)].map((match) => match[1]);
  assert.deepEqual([...new Set(fetched)].sort(), [
    "/.well-known/jwks.json",
    "/auth",
    "/console/keys.html",
    "/console/keys.json",
  ]);
  assert.equal([...CONSOLE_JS.matchAll(/fetch\(/g)].length, fetched.length, "every fetch names a fixed path");
  assert.ok(!/https?:\/\//.test(CONSOLE_JS), "no absolute URL");
  assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/.test(CONSOLE_JS));
  assert.ok(!/https?:\/\/|@import/.test(CONSOLE_CSS), "the stylesheet loads nothing");
});

Deno.test("the app mounts the console: GET answers, other methods get 405", async () => {
  const app = await testApp(ES256);
  try {
    const page = await app.handle(new Request("http://127.0.0.1:8080/"), from());
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-security-policy"), CONSOLE_CSP);
    await page.body?.cancel();
    const head = await app.handle(new Request("http://127.0.0.1:8080/console/keys.json", { method: "HEAD" }), from());
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    const post = await app.handle(new Request("http://127.0.0.1:8080/", { method: "POST" }), from());
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD, OPTIONS");
    await post.body?.cancel();
  } finally {
    await app.close();
  }
});
