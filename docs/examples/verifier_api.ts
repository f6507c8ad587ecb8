/**
 * An example API to point `jwks-server probe` at: every path answers 200 `{"sub": …}` to a bearer
 * token jose's `jwtVerify` accepts against jwks-server's key set, and 401 otherwise. By default
 * it is configured the way docs/probe.md recommends (algorithm pinned, `exp` required, `iat`
 * bounded); `--lax` checks only issuer and audience, as many tutorials do, and the probe says
 * what that lets through.
 *
 *     deno run --allow-net docs/examples/verifier_api.ts [--port 8081] [--jwks URL]
 *       [--issuer I] [--audience A] [--alg RS256] [--lax]
 * @module
 */
import { createRemoteJWKSet, jwtVerify } from "jose";

function flag(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < Deno.args.length ? Deno.args[at + 1]! : fallback;
}

const port = Number(flag("port", "8081"));
const jwks = createRemoteJWKSet(new URL(flag("jwks", "http://127.0.0.1:8080/.well-known/jwks.json")));
const issuer = flag("issuer", "http://127.0.0.1:8080");
const audience = flag("audience", "my-api");
const alg = flag("alg", "RS256");
const lax = Deno.args.includes("--lax");

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: (addr) =>
    console.log(`verifier_api listening on http://127.0.0.1:${addr.port} (${lax ? "lax" : "strict"})`),
}, async (request) => {
  const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  try {
    if (token === undefined) throw new Error("no bearer token");
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience,
      clockTolerance: 60,
      ...(lax ? {} : { algorithms: [alg], requiredClaims: ["exp"], maxTokenAge: "1h" }),
    });
    return Response.json({ sub: payload.sub });
  } catch (error) {
    const description = error instanceof Error ? error.message : "invalid token";
    return Response.json({ error: "invalid_token", error_description: description }, {
      status: 401,
      headers: { "www-authenticate": 'Bearer error="invalid_token"' },
    });
  }
});
