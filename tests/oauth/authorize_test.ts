import assert from "node:assert/strict";
import { checkAuthorizeRequest, isLoopbackUri, redirectWith } from "../../lib/oauth/authorize.ts";
import type { ClientRecord } from "../../lib/store/oauth_ports.ts";

const CLIENT: ClientRecord = {
  id: "c1",
  name: "app",
  secretHash: null,
  grantTypes: ["authorization_code"],
  scopes: ["openid", "email"],
  redirectUris: ["https://app.example/cb"],
  audiences: [],
  createdAt: 0,
};
const deps = {
  mode: "password" as const,
  clients: { find: (id: string) => Promise.resolve(id === "c1" ? CLIENT : null) },
};
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

Deno.test("a well-formed request is pending sign-in with what was granted", async () => {
  const outcome = await checkAuthorizeRequest(
    new URLSearchParams({
      response_type: "code",
      client_id: "c1",
      redirect_uri: "https://app.example/cb",
      state: "xyz",
      code_challenge: CHALLENGE,
      code_challenge_method: "S256",
    }),
    deps,
  );
  assert.deepEqual(outcome, {
    kind: "login",
    request: {
      clientId: "c1",
      redirectUri: "https://app.example/cb",
      scope: ["openid", "email"],
      state: "xyz",
      nonce: null,
      codeChallenge: CHALLENGE,
    },
    client: CLIENT,
  });
});

Deno.test("the client and redirect URI are checked before anything else", async () => {
  // A bad response_type and a bad redirect URI: the page, never a redirect to the bad URI.
  const outcome = await checkAuthorizeRequest(
    new URLSearchParams({ response_type: "token", client_id: "c1", redirect_uri: "https://evil.example/cb" }),
    deps,
  );
  assert.equal(outcome.kind, "page");
});

Deno.test("loopback URIs are http(s) on 127.0.0.1, [::1] or localhost, without a fragment", () => {
  for (const uri of ["http://127.0.0.1:8000/cb", "http://[::1]/cb", "https://localhost/x"]) {
    assert.ok(isLoopbackUri(uri), uri);
  }
  for (
    const uri of [
      "https://example.com/cb",
      "http://127.0.0.1.evil.example/",
      "http://127.0.0.1/#x",
      "custom://127.0.0.1/",
      "nope",
    ]
  ) {
    assert.equal(isLoopbackUri(uri), false, uri);
  }
});

Deno.test("redirectWith adds parameters to the query and leaves out null ones", () => {
  assert.equal(
    redirectWith("https://app.example/cb?x=1", { code: "a b", state: null, iss: "https://i.example" }),
    "https://app.example/cb?x=1&code=a+b&iss=https%3A%2F%2Fi.example",
  );
});
