/**
 * An example web app that signs its users in with jwks-server through openid-client, the OpenID
 * Connect library most Node.js and Deno apps use: authorization code + PKCE S256, state and
 * nonce, the ID token validated by the library, then userinfo. Open http://127.0.0.1:3000/ in a
 * browser; `/` sends you to jwks-server's login page and the callback shows who signed in.
 *
 *     deno run --allow-net docs/examples/oidc_rp.ts [--port 3000] [--issuer http://127.0.0.1:8080]
 *       [--client-id example-app] [--client-secret SECRET]
 *
 * Without `--client-secret` it is a public client (PKCE is what protects the code); a server in
 * open mode accepts any client id with a loopback redirect URI, so nothing needs registering.
 * In password mode register it first (`clients add example-app --public --grant
 * authorization_code --scope openid --redirect-uri http://127.0.0.1:3000/callback`) and pass
 * the `client_id` it prints as `--client-id`.
 * @module
 */
import * as oidc from "openid-client";

function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < Deno.args.length ? Deno.args[at + 1]! : fallback;
}

const port = Number(flag("port", "3000"));
const issuer = new URL(flag("issuer", "http://127.0.0.1:8080"));
const clientId = flag("client-id", "example-app");
const secret = flag("client-secret", "");
const redirectUri = `http://127.0.0.1:${port}/callback`;
/** Sign-ins started and not yet finished, by state; at most this many are kept. */
const MAX_PENDING = 100;

// Discovery runs on the first sign-in (and again after a failure), so the app may start before
// the issuer. Plain http is for loopback only: openid-client refuses it unless told otherwise.
let discovered: Promise<oidc.Configuration> | null = null;
function configuration(): Promise<oidc.Configuration> {
  discovered ??= oidc.discovery(
    issuer,
    clientId,
    secret === "" ? undefined : secret,
    secret === "" ? oidc.None() : oidc.ClientSecretBasic(secret),
    issuer.protocol === "http:" ? { execute: [oidc.allowInsecureRequests] } : {},
  ).catch((error) => {
    discovered = null;
    throw error;
  });
  return discovered;
}
const pending = new Map<string, { verifier: string; nonce: string }>();

const html = (status: number, body: string) =>
  new Response(`<!doctype html><meta charset="utf-8"><title>example app</title>${body}`, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

async function signIn(): Promise<Response> {
  const config = await configuration();
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
  pending.set(state, { verifier, nonce });
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return new Response(null, { status: 302, headers: { location: url.href } });
}

async function callback(url: URL): Promise<Response> {
  const state = url.searchParams.get("state") ?? "";
  const flow = pending.get(state);
  if (flow === undefined) return html(400, "<p>Unknown or finished sign-in. <a href=/>Start again</a>");
  pending.delete(state);
  try {
    const config = await configuration();
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: flow.verifier,
      expectedState: state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    return html(
      200,
      `<h1>Signed in as ${escape(claims.sub)}</h1><h2>ID token claims</h2><pre id=claims>${
        escape(JSON.stringify(claims, null, 2))
      }</pre><h2>userinfo</h2><pre id=userinfo>${escape(JSON.stringify(userinfo, null, 2))}</pre>`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return html(400, `<p>Sign-in failed: <span id=error>${escape(message)}</span>. <a href=/>Start again</a>`);
  }
}

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: (addr) => console.log(`oidc_rp listening on http://127.0.0.1:${addr.port} (issuer ${issuer.href})`),
}, (request) => {
  const url = new URL(request.url);
  if (url.pathname === "/") return signIn();
  if (url.pathname === "/callback") return callback(url);
  if (url.pathname === "/favicon.ico") return new Response(null, { status: 204 });
  return html(404, "<p>Not found");
});
