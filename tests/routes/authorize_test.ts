import assert from "node:assert/strict";
import { PENDING_TTL } from "../../lib/oauth/pending.ts";
import { signinCsp } from "../../lib/routes/authorize.ts";
import { type TestApp, withApp } from "../support/helpers.ts";
import { authorizeQuery, openLogin, pkce, postLogin, redirectParams } from "../support/signin.ts";

const ALICE = "alice:alice-password-1";
const PASSWORD_MODE = { auth: "password", "seed-user": [ALICE], "rate-limit": "off" };
const CB = "https://app.example/cb";

async function publicClient(app: TestApp, overrides: Record<string, unknown> = {}) {
  const { client } = await app.clients.register({
    name: "Example <App>",
    public: true,
    grantTypes: ["authorization_code", "refresh_token"],
    scopes: ["openid", "profile", "offline_access"],
    redirectUris: [CB, "http://127.0.0.1:9999/cb?x=1"],
    ...overrides,
  }, 0);
  return client.id;
}

function request(clientId: string, overrides: Record<string, string | undefined> = {}) {
  return authorizeQuery({
    response_type: "code",
    client_id: clientId,
    redirect_uri: CB,
    scope: "openid",
    state: "st-1",
    nonce: "n-1",
    code_challenge: pkce().challenge,
    code_challenge_method: "S256",
    ...overrides,
  });
}

async function assertErrorPage(response: Response, status: number, text: RegExp) {
  const html = await response.text();
  assert.equal(response.status, status, html);
  assert.equal(response.headers.get("location"), null, "never a redirect");
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("content-security-policy"), signinCsp(null));
  assert.match(html, text);
}

Deno.test("GET /authorize answers a bad client or redirect URI with an HTML page, never a redirect", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const cases: [string, string, RegExp][] = [
      ["no client_id", request("", {}), /names no client/],
      ["an unknown client", request("nobody"), /not registered/],
      ["no redirect_uri", request(id, { redirect_uri: undefined }), /no &quot;redirect_uri&quot;/],
      ["a redirect URI with a trailing slash", request(id, { redirect_uri: `${CB}/` }), /compared exactly/],
      ["a redirect URI with another query", request(id, { redirect_uri: "http://127.0.0.1:9999/cb?x=2" }), /exactly/],
      ["a redirect URI of another host", request(id, { redirect_uri: "https://evil.example/cb" }), /exactly/],
      ["a repeated client_id", `${request(id)}&client_id=${id}`, /repeated/],
      ["a repeated redirect_uri", `${request(id)}&redirect_uri=${encodeURIComponent(CB)}`, /repeated/],
    ];
    for (const [name, query, text] of cases) {
      await t.step(name, async () => assertErrorPage(await app.fetch(`/authorize${query}`), 400, text));
    }
  });
});

Deno.test("open mode takes an unregistered client only with a loopback redirect URI", async (t) => {
  await withApp({ "rate-limit": "off" }, async (app) => {
    await t.step("https://evil.example is refused with the page", async () => {
      await assertErrorPage(await app.fetch(`/authorize${request("adhoc")}`), 400, /loopback/);
    });
    await t.step("http://127.0.0.1:PORT/ shows the login page", async () => {
      const response = await app.fetch(`/authorize${request("adhoc", { redirect_uri: "http://127.0.0.1:5000/cb" })}`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /<code>adhoc<\/code> wants you to sign in/);
    });
    await t.step("and PKCE is required of it, as of any public client", async () => {
      const response = await app.fetch(
        `/authorize${request("adhoc", { redirect_uri: "http://127.0.0.1:5000/cb", code_challenge: undefined })}`,
      );
      assert.equal(redirectParams(response).get("error"), "invalid_request");
    });
  });
});

Deno.test("GET /authorize redirects every other error with error, error_description, state and iss", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const noCode = await publicClient(app, { grantTypes: ["password"], redirectUris: [CB] });
    const confidential = (await app.clients.register({
      name: "server app",
      grantTypes: ["authorization_code"],
      scopes: ["openid"],
      redirectUris: [CB],
    }, 0)).client.id;
    const cases: [string, string, string][] = [
      ["no response_type", request(id, { response_type: undefined }), "invalid_request"],
      ["response_type=token", request(id, { response_type: "token" }), "unsupported_response_type"],
      ["response_type=code id_token", request(id, { response_type: "code id_token" }), "unsupported_response_type"],
      ["response_mode=fragment", request(id, { response_mode: "fragment" }), "invalid_request"],
      ["a client not registered for authorization_code", request(noCode), "unauthorized_client"],
      ["a scope the client may not ask for", request(id, { scope: "openid admin" }), "invalid_scope"],
      ["a malformed scope", request(id, { scope: 'openid "x' }), "invalid_scope"],
      [
        "a public client without PKCE",
        request(id, { code_challenge: undefined, code_challenge_method: undefined }),
        "invalid_request",
      ],
      ["code_challenge_method=plain", request(id, { code_challenge_method: "plain" }), "invalid_request"],
      [
        "a challenge without a method (plain by default)",
        request(id, { code_challenge_method: undefined }),
        "invalid_request",
      ],
      ["a method without a challenge", request(id, { code_challenge: undefined }), "invalid_request"],
      ["a challenge that is not S256's shape", request(id, { code_challenge: "short" }), "invalid_request"],
      ["a repeated parameter", `${request(id)}&scope=openid`, "invalid_request"],
      ["a nonce over 512 characters", request(id, { nonce: "n".repeat(513) }), "invalid_request"],
      ["prompt=none (no sessions here)", request(id, { prompt: "none" }), "login_required"],
      ["a request object", request(id, { request: "eyJ.x.y" }), "request_not_supported"],
      ["a request_uri", request(id, { request_uri: "https://x.example/r" }), "request_uri_not_supported"],
      [
        "a confidential client with plain",
        request(confidential, { code_challenge_method: "plain" }),
        "invalid_request",
      ],
    ];
    for (const [name, query, error] of cases) {
      await t.step(name, async () => {
        const response = await app.fetch(`/authorize${query}`);
        assert.equal(response.status, 302);
        assert.equal(response.headers.get("cache-control"), "no-store");
        assert.ok(response.headers.get("location")!.startsWith(`${CB}?`), "back to the registered redirect URI");
        const params = redirectParams(response);
        assert.equal(params.get("error"), error);
        assert.ok((params.get("error_description") ?? "").length > 0);
        assert.equal(params.get("state"), "st-1");
        assert.equal(params.get("iss"), app.config.issuer, "RFC 9207");
        assert.equal(params.get("code"), null);
      });
    }
    await t.step("a state over 1024 characters is refused and not echoed", async () => {
      const params = redirectParams(await app.fetch(`/authorize${request(id, { state: "s".repeat(1025) })}`));
      assert.equal(params.get("error"), "invalid_request");
      assert.equal(params.get("state"), null);
    });
    await t.step("a redirect URI with a query keeps it and gains the error", async () => {
      const response = await app.fetch(
        `/authorize${request(id, { redirect_uri: "http://127.0.0.1:9999/cb?x=1", response_type: "token" })}`,
      );
      const location = new URL(response.headers.get("location")!);
      assert.equal(location.searchParams.get("x"), "1");
      assert.equal(location.searchParams.get("error"), "unsupported_response_type");
    });
    await t.step("a confidential client may leave PKCE out", async () => {
      const response = await app.fetch(
        `/authorize${request(confidential, { code_challenge: undefined, code_challenge_method: undefined })}`,
      );
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
  });
});

Deno.test("the login page: strict CSP, framing denied, no-store, a CSRF cookie, no script", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const response = await app.fetch(`/authorize${request(id)}`);
    const html = await response.text();
    await t.step("the headers", () => {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-security-policy"), signinCsp("https://app.example"));
      assert.match(response.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
      assert.doesNotMatch(response.headers.get("content-security-policy")!, /script-src|unsafe/);
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.equal(response.headers.get("referrer-policy"), "no-referrer");
      const cookie = response.headers.get("set-cookie")!;
      assert.match(cookie, /^jwks_signin=[A-Za-z0-9_-]{43}; Path=\/authorize; Max-Age=600; HttpOnly; SameSite=Strict$/);
    });
    await t.step("the page: the client's name escaped, the scope, the hidden fields, no script", () => {
      assert.match(html, /<strong>Example &lt;App&gt;<\/strong> wants you to sign in/);
      assert.match(html, /<code>openid<\/code>/);
      assert.match(html, /name="request" value="[A-Za-z0-9_.-]+"/);
      assert.match(html, /name="csrf" value="[A-Za-z0-9_-]{43}"/);
      assert.doesNotMatch(html, /<script/i);
      assert.doesNotMatch(html, /name="claims"/, "password mode has no claims box");
    });
    await t.step("the stylesheet is same-origin and cacheable for good", async () => {
      const href = /<link rel="stylesheet" href="([^"]+)">/.exec(html)![1]!;
      const css = await app.fetch(href);
      assert.equal(css.status, 200);
      assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
      assert.match(css.headers.get("cache-control")!, /immutable/);
      await css.body?.cancel();
    });
    await t.step("a cookie the browser already has is kept", async () => {
      const again = await app.fetch(`/authorize${request(id)}`, {
        headers: { cookie: `jwks_signin=${"k".repeat(43)}` },
      });
      assert.match(again.headers.get("set-cookie")!, new RegExp(`^jwks_signin=${"k".repeat(43)};`));
      await again.body?.cancel();
    });
  });
  await withApp({ ...PASSWORD_MODE, issuer: "https://issuer.example" }, async (app) => {
    await t.step("behind https the cookie is Secure", async () => {
      const id = await publicClient(app);
      const response = await app.fetch(`/authorize${request(id)}`);
      assert.match(response.headers.get("set-cookie")!, /; Secure$/);
      await response.body?.cancel();
    });
  });
});

Deno.test("POST /authorize/login checks the sealed request and the CSRF token before any password", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const form = await openLogin(app.fetch, request(id));
    const right = { username: "alice", password: "alice-password-1" };
    const refused: [string, () => Promise<Response>, number][] = [
      ["no CSRF token", () => postLogin(app.fetch, { ...form, csrf: "" }, right), 403],
      ["a wrong CSRF token", () => postLogin(app.fetch, { ...form, csrf: "x".repeat(43) }, right), 403],
      ["no cookie", () => postLogin(app.fetch, form, right, { cookie: null }), 403],
      ["another browser's cookie", () => postLogin(app.fetch, form, right, { cookie: "c".repeat(43) }), 403],
      ["a tampered request", () => postLogin(app.fetch, { ...form, request: `x${form.request.slice(1)}` }, right), 400],
      ["no request", () => postLogin(app.fetch, { ...form, request: "" }, right), 400],
    ];
    for (const [name, send, status] of refused) {
      await t.step(name, async () => {
        const response = await send();
        await assertErrorPage(response, status, /start again/);
        assert.equal(app.users.backoff?.size ?? 0, 0, "the password was never checked");
      });
    }
    await t.step("a form older than its 10 minutes", async () => {
      const old = await openLogin(app.fetch, request(id));
      app.clock.advance((PENDING_TTL + 1) * 1000);
      await assertErrorPage(await postLogin(app.fetch, old, right), 400, /expired/);
    });
    await t.step("a body that is not a form", async () => {
      const response = await app.fetch("/authorize/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      await assertErrorPage(response, 415, /x-www-form-urlencoded/);
    });
  });
});

Deno.test("POST /authorize/login signs in registered users, with the login policy of /auth", async (t) => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    await t.step("a wrong password re-renders the page with the error, 401, the username kept", async () => {
      const form = await openLogin(app.fetch, request(id));
      const response = await postLogin(app.fetch, form, { username: "alice", password: "wrong-password" });
      const html = await response.text();
      assert.equal(response.status, 401);
      assert.match(html, /role="alert">Invalid username or password</);
      assert.match(html, /name="username"[^>]*value="alice"/);
      assert.doesNotMatch(html, /wrong-password/, "the password is never echoed");
      assert.equal(response.headers.get("content-security-policy"), signinCsp("https://app.example"));
    });
    await t.step("an unknown username gets the same answer: no account enumeration", async () => {
      const form = await openLogin(app.fetch, request(id));
      const response = await postLogin(app.fetch, form, { username: "mallory", password: "wrong-password" });
      assert.equal(response.status, 401);
      assert.match(await response.text(), /role="alert">Invalid username or password</);
    });
    await t.step("an empty form asks for both fields", async () => {
      const form = await openLogin(app.fetch, request(id));
      const response = await postLogin(app.fetch, form, { username: "alice" });
      assert.equal(response.status, 400);
      assert.match(await response.text(), /Enter your username and password/);
    });
    await t.step("Cancel goes back with access_denied, state and iss", async () => {
      const form = await openLogin(app.fetch, request(id));
      const params = redirectParams(await postLogin(app.fetch, form, { action: "cancel" }));
      assert.equal(params.get("error"), "access_denied");
      assert.equal(params.get("state"), "st-1");
      assert.equal(params.get("iss"), app.config.issuer);
    });
    await t.step("the right password redirects with a code, state and iss, and writes auth_logs", async () => {
      const before = app.loginLog.written + app.loginLog.pending;
      const form = await openLogin(app.fetch, request(id));
      const response = await postLogin(app.fetch, form, { username: "alice", password: "alice-password-1" });
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.ok(response.headers.get("location")!.startsWith(`${CB}?`));
      const params = redirectParams(response);
      assert.match(params.get("code")!, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(params.get("state"), "st-1");
      assert.equal(params.get("iss"), app.config.issuer);
      await app.loginLog.flush();
      assert.equal(app.loginLog.written, before + 1);
    });
  });
});

Deno.test("failed sign-ins back off per username and IP, as on /auth", async () => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const form = await openLogin(app.fetch, request(id));
    const wrong = { username: "alice", password: "wrong-password" };
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      const response = await postLogin(app.fetch, form, wrong, { ip: "192.0.2.7" });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401]);
    const locked = await postLogin(app.fetch, form, { username: "alice", password: "alice-password-1" }, {
      ip: "192.0.2.7",
    });
    assert.equal(locked.status, 429, "even the right password waits");
    assert.equal(locked.headers.get("retry-after"), "1");
    assert.match(await locked.text(), /Too many failed sign-ins; try again in 1 s/);
    const elsewhere = await postLogin(app.fetch, form, { username: "alice", password: "alice-password-1" }, {
      ip: "198.51.100.1",
    });
    assert.equal(elsewhere.status, 302, "another IP is not locked out");
    app.clock.advance(1000);
    const later = await postLogin(app.fetch, form, { username: "alice", password: "alice-password-1" }, {
      ip: "192.0.2.7",
    });
    assert.equal(later.status, 302, "after the wait the right password works");
  });
});

Deno.test("POST /authorize/login is rate limited per IP before the body is read, with an HTML answer", async () => {
  await withApp({ ...PASSWORD_MODE, "rate-limit": "2/s" }, async (app) => {
    const id = await publicClient(app);
    const form = await openLogin(app.fetch, request(id));
    const wrong = { username: "alice", password: "wrong-password" };
    for (let i = 0; i < 2; i++) {
      const response = await postLogin(app.fetch, form, wrong);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("ratelimit-limit"), "2");
      await response.body?.cancel();
    }
    const limited = await postLogin(app.fetch, form, wrong);
    await assertErrorPage(limited, 429, /Too many requests/);
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.equal(limited.headers.get("ratelimit-remaining"), "0");
    const other = await postLogin(app.fetch, form, wrong, { ip: "192.0.2.9" });
    assert.equal(other.status, 401, "another IP has its own budget");
    await other.body?.cancel();
  });
});

Deno.test("open mode: any username signs in, with an optional claims box that is checked", async (t) => {
  await withApp({ "seed-user": [ALICE], "rate-limit": "off" }, async (app) => {
    const id = await publicClient(app);
    const form = await openLogin(app.fetch, request(id));
    await t.step("the page has the claims box", () => {
      assert.match(form.html, /<textarea id="claims" name="claims"/);
    });
    await t.step("any username without a password gets a code", async () => {
      assert.equal((await postLogin(app.fetch, form, { username: "dev" })).status, 302);
    });
    await t.step("claims that are JSON objects of allowed names get a code", async () => {
      const response = await postLogin(app.fetch, form, { username: "dev", claims: '{"roles":["admin"]}' });
      assert.equal(response.status, 302);
    });
    const refused: [string, string, RegExp][] = [
      ["not JSON", "{roles", /must be a JSON object/],
      ["a JSON array", "[1,2]", /must be a JSON object/],
      ["a reserved claim (iss)", '{"iss":"https://evil.example"}', /cannot be set/],
      ["a claim the ID token sets (nonce)", '{"nonce":"x"}', /set by the server/],
      ["over 8 KiB", JSON.stringify({ big: "x".repeat(9000) }), /at most 8192 bytes/],
    ];
    for (const [name, claims, text] of refused) {
      await t.step(`claims ${name} re-render the page with the error`, async () => {
        const response = await postLogin(app.fetch, form, { username: "dev", claims });
        const html = await response.text();
        assert.equal(response.status, 400);
        assert.match(html, text);
        assert.match(html, /<textarea id="claims"/, "the box keeps what was typed");
      });
    }
    await t.step("a registered username still needs its password", async () => {
      const response = await postLogin(app.fetch, form, { username: "alice" });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    });
    await t.step("a username that cannot be a subject is refused", async () => {
      const response = await postLogin(app.fetch, form, { username: "x".repeat(300) });
      assert.equal(response.status, 400);
      await response.body?.cancel();
    });
  });
});

Deno.test("while sign-ins cannot be recorded the login page answers 503 and issues no code", async () => {
  await withApp(PASSWORD_MODE, async (app) => {
    const id = await publicClient(app);
    const form = await openLogin(app.fetch, request(id));
    Object.defineProperty(app.loginLog, "healthy", { value: false, configurable: true });
    const response = await postLogin(app.fetch, form, { username: "alice", password: "alice-password-1" });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "2");
    assert.match(await response.text(), /cannot be recorded/);
  });
});
