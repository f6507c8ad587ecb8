// Peer (c) of `deno task bench`: node-oidc-provider's client_credentials grant issuing RS256
// JWT access tokens (RFC 9068) for one confidential client. Configured as its README's
// resource-indicator example does; nothing tuned. Logs {"msg":"listening","url":...} once up.
//
//     node bench/peers/oidc_provider.mjs [PORT]
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.argv[2] ?? 0);
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: "bench" };
const resource = "urn:jwks-server:bench";
const provider = new Provider("http://127.0.0.1", {
  jwks: { keys: [jwk] },
  clients: [{
    client_id: "bench",
    client_secret: "bench-secret",
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
    scope: "api",
  }],
  scopes: ["api"],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: "api", accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
    },
  },
});
const server = provider.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${server.address().port}` }));
});
