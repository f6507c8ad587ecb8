/**
 * Browser sign-in end to end: an openid-client relying party (code + PKCE S256, nonce, state)
 * sends Debian's chromium (driven by playwright-core) through the login page, takes the redirect
 * on a loopback redirect URI it serves, redeems the code, validates the ID token (nonce, at_hash
 * checked here too) and calls userinfo; the same in open mode with custom claims and JavaScript
 * off. Wrong password, replayed code, wrong redirect URI and a missing PKCE verifier fail as the
 * RFCs say. Screenshots of the login page, the error page and the console go to
 * `coverage/screenshots/`.
 * @module
 */
import assert from "node:assert/strict";
import { decodeProtectedHeader } from "jose";
import * as oidc from "openid-client";
import { signinCsp } from "../../lib/routes/authorize.ts";
import { type Browser, browserTest, launchBrowser, screenshot, type WatchedPage } from "../support/browser.ts";
import { testClock, withServedApp } from "../support/helpers.ts";
import { clientConfig, rejectedWith } from "../support/oauth.ts";

/** A loopback relying party: serves the redirect URI and remembers what came back. */
async function relyingParty(): Promise<{ redirectUri: string; close(): Promise<void> }> {
  const listening = Promise.withResolvers<string>();
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: ({ port }) => listening.resolve(`http://127.0.0.1:${port}/cb`) },
    () =>
      new Response("<!doctype html><title>back at the app</title><p>Back at the app", {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
  return { redirectUri: await listening.promise, close: () => server.shutdown() };
}

/** The left half of the access token's SHA-2 for `alg`, base64url: at_hash computed independently. */
async function expectedAtHash(accessToken: string, alg: string): Promise<string> {
  const hash = alg === "EdDSA" ? "SHA-512" : `SHA-${alg.slice(2)}`;
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  return digest.subarray(0, digest.byteLength / 2).toBase64({ alphabet: "base64url", omitPadding: true });
}

interface Flow {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

async function startFlow(config: oidc.Configuration, redirectUri: string, scope: string): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    nonce,
    state,
  });
  return { url, verifier, nonce, state };
}

/** Fills and submits the login form; resolves once the browser is back at the redirect URI. */
async function signInThrough(
  page: WatchedPage,
  flow: Flow,
  redirectUri: string,
  fields: { username: string; password?: string; claims?: string },
): Promise<URL> {
  const response = await page.goto(flow.url.href);
  assert.equal(response?.status(), 200);
  await page.fill("#username", fields.username);
  if (fields.password !== undefined) await page.fill("#password", fields.password);
  if (fields.claims !== undefined) await page.fill("#claims", fields.claims);
  await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[value="signin"]')]);
  return new URL(page.url());
}

function withoutExpectedStatuses(problems: readonly string[]): string[] {
  return problems.filter((problem) => !/^HTTP (400|401)|status of 40[01]/.test(problem));
}

/** What each scenario gets: the issuer URL, a registered public client, its RP, a browser. */
interface Scenario {
  url: string;
  clientId: string;
  config: oidc.Configuration;
  redirectUri: string;
  browser: Browser;
}

/** Serves the app (clock frozen at real time) and a relying party, registers a public code client. */
async function run(flags: Record<string, string | string[]>, fn: (scenario: Scenario) => Promise<void>) {
  // Real time, frozen: openid-client checks the ID token against its own clock.
  const clock = testClock(Math.floor(Date.now() / 1000) * 1000);
  const rp = await relyingParty();
  try {
    await withServedApp(flags, async (url, app) => {
      const { client } = await app.clients.register({
        name: "Example app",
        public: true,
        grantTypes: ["authorization_code", "refresh_token"],
        scopes: ["openid", "profile", "offline_access"],
        redirectUris: [rp.redirectUri],
      }, 0);
      const config = await clientConfig(url, client.id);
      const browser = await launchBrowser();
      try {
        await fn({ url, clientId: client.id, config, redirectUri: rp.redirectUri, browser });
      } finally {
        await browser.close();
      }
    }, { clock });
  } finally {
    await rp.close();
  }
}

browserTest("an openid-client app signs a registered user in through the login page in chromium", async (t) => {
  const flags = { auth: "password", "seed-user": ["alice:alice-password-1"], "rate-limit": "off" };
  await run(flags, async ({ url, clientId, config, redirectUri, browser }) => {
    const rp = { redirectUri };
    const scope = "openid profile offline_access";
    const page = await browser.newPage();

    let tokens!: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    let back!: URL;
    let flow!: Flow;
    await t.step("the login page: strict CSP, framing denied, no-store; a screenshot", async () => {
      flow = await startFlow(config, rp.redirectUri, scope);
      const response = await page.goto(flow.url.href);
      assert.ok(response !== null);
      const headers = response.headers();
      assert.equal(headers["content-security-policy"], signinCsp(new URL(rp.redirectUri).origin));
      assert.equal(headers["x-frame-options"], "DENY");
      assert.equal(headers["cache-control"], "no-store");
      assert.match((await page.textContent("main"))!, /wants you to sign in/);
      assert.ok(Deno.statSync(await screenshot(page, "signin-login")).size > 5_000);
    });

    await t.step("a wrong password shows the error on the page and stays there", async () => {
      await page.fill("#username", "alice");
      await page.fill("#password", "not-her-password");
      await Promise.all([page.waitForURL(`${url}/authorize/login`), page.click('button[value="signin"]')]);
      assert.equal((await page.textContent("#signin-error"))?.trim(), "Invalid username or password");
      assert.equal(await page.inputValue("#username"), "alice");
      assert.equal(await page.inputValue("#password"), "", "the password is not sent back");
      await screenshot(page, "signin-wrong-password");
    });

    await t.step("the right password goes back to the app with a code, the state and iss", async () => {
      await page.fill("#password", "alice-password-1");
      await Promise.all([page.waitForURL(`${rp.redirectUri}?**`), page.click('button[value="signin"]')]);
      back = new URL(page.url());
      assert.equal(back.searchParams.get("state"), flow.state);
      assert.equal(back.searchParams.get("iss"), url);
      assert.match(back.searchParams.get("code")!, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(withoutExpectedStatuses(page.problems), [], "no CSP violation on the way (form-action)");
    });

    await t.step("openid-client redeems the code and validates the ID token: nonce, at_hash, aud", async () => {
      tokens = await oidc.authorizationCodeGrant(config, back, {
        pkceCodeVerifier: flow.verifier,
        expectedNonce: flow.nonce,
        expectedState: flow.state,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      assert.equal(claims.sub, "alice");
      assert.equal(claims.aud, clientId);
      assert.equal(claims.iss, url);
      assert.equal(claims.nonce, flow.nonce);
      assert.equal(typeof claims.auth_time, "number");
      const alg = decodeProtectedHeader(tokens.id_token!).alg!;
      assert.equal(claims.at_hash, await expectedAtHash(tokens.access_token, alg));
      assert.equal(typeof tokens.refresh_token, "string", "offline_access brings a refresh token");
    });

    await t.step("userinfo answers for the access token", async () => {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, "alice");
      assert.equal(info.sub, "alice");
      assert.equal(info.preferred_username, "alice");
    });

    await t.step("the same code again is invalid_grant, and what it issued is revoked", async () => {
      const replay = await rejectedWith(
        oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: flow.verifier, expectedState: flow.state }),
      );
      assert.equal(replay, "invalid_grant");
      await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, "alice"));
      assert.equal(await rejectedWith(oidc.refreshTokenGrant(config, tokens.refresh_token!)), "invalid_grant");
    });

    await t.step("a code redeemed without its PKCE verifier is invalid_grant", async () => {
      const second = await startFlow(config, rp.redirectUri, "openid");
      const fresh = await browser.newPage();
      const returned = await signInThrough(fresh, second, rp.redirectUri, {
        username: "alice",
        password: "alice-password-1",
      });
      const refused = await rejectedWith(
        oidc.authorizationCodeGrant(config, returned, { expectedState: second.state }),
      );
      assert.equal(refused, "invalid_grant");
      await fresh.context().close();
    });

    await t.step("the login page fits a phone-sized screen", async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      await phone.goto((await startFlow(config, rp.redirectUri, "openid")).url.href);
      const width = await phone.evaluate(() =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth
      );
      assert.ok(width <= 390, `no sideways scrolling (${width} px wide)`);
      await screenshot(phone, "signin-login-phone");
      assert.deepEqual(phone.problems, []);
      await phone.context().close();
    });

    await t.step("a redirect URI that is not registered shows the error page, and no redirect", async () => {
      const wrong = await startFlow(config, "http://127.0.0.1:1/elsewhere", "openid");
      const response = await page.goto(wrong.url.href);
      assert.equal(response?.status(), 400);
      assert.equal(new URL(page.url()).origin, url, "the browser stays on the server");
      assert.match((await page.textContent("#signin-error"))!, /not one registered for this client/);
      assert.ok(Deno.statSync(await screenshot(page, "signin-error-page")).size > 5_000);
    });

    await t.step("the console lists the authorization endpoint; a screenshot", async () => {
      const console = await browser.newPage();
      await console.goto(`${url}/`);
      assert.match((await console.textContent("body"))!, new RegExp(`${url}/authorize`));
      await screenshot(console, "signin-console");
      assert.deepEqual(console.problems, []);
      await console.context().close();
    });
    await page.context().close();
  });
});

browserTest("open mode in chromium with JavaScript off: any username, custom claims in the ID token", async (t) => {
  await run({ "rate-limit": "off" }, async ({ url, config, redirectUri, browser }) => {
    const rp = { redirectUri };
    const page = await browser.newPage({ javaScriptEnabled: false });
    const flow = await startFlow(config, rp.redirectUri, "openid profile");
    await t.step("the login page has a claims box; signing in needs no script", async () => {
      await page.goto(flow.url.href);
      assert.equal(await page.isVisible("#claims"), true);
      await screenshot(page, "signin-login-open-mode");
    });
    let back!: URL;
    await t.step("claims that are not a JSON object are refused on the page", async () => {
      await page.fill("#username", "dev-user");
      await page.fill("#claims", "[1, 2]");
      await Promise.all([page.waitForURL(`${url}/authorize/login`), page.click('button[value="signin"]')]);
      assert.match((await page.textContent("#signin-error"))!, /must be a JSON object/);
      assert.equal(await page.inputValue("#claims"), "[1, 2]");
    });
    await t.step("a JSON object of claims signs in", async () => {
      await page.fill("#claims", '{"roles": ["admin"], "tenant": "acme"}');
      await Promise.all([page.waitForURL(`${rp.redirectUri}?**`), page.click('button[value="signin"]')]);
      back = new URL(page.url());
    });
    await t.step("the ID token carries them, validated by openid-client; userinfo answers", async () => {
      const tokens = await oidc.authorizationCodeGrant(config, back, {
        pkceCodeVerifier: flow.verifier,
        expectedNonce: flow.nonce,
        expectedState: flow.state,
      });
      const claims = tokens.claims()!;
      assert.equal(claims.sub, "dev-user");
      assert.deepEqual(claims.roles, ["admin"]);
      assert.equal(claims.tenant, "acme");
      const alg = decodeProtectedHeader(tokens.id_token!).alg!;
      assert.equal(claims.at_hash, await expectedAtHash(tokens.access_token, alg));
      const info = await oidc.fetchUserInfo(config, tokens.access_token, "dev-user");
      assert.equal(info.preferred_username, "dev-user");
    });
    await page.context().close();
  });
});
