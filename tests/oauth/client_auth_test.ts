import assert from "node:assert/strict";
import { authenticateClient, basicClient } from "../../lib/oauth/client_auth.ts";
import { hashSecret } from "../../lib/oauth/clients.ts";
import { OAuthError } from "../../lib/oauth/errors.ts";
import { parseForm } from "../../lib/oauth/params.ts";
import type { ClientRecord } from "../../lib/store/oauth_ports.ts";
import { clientRecord } from "../support/store_contract.ts";

const confidential = clientRecord("svc", { secretHash: hashSecret("s3cret") });
const pub = clientRecord("app", { secretHash: null });
const clients = {
  find: (id: string) => Promise.resolve<ClientRecord | null>({ svc: confidential, app: pub }[id] ?? null),
};
const request = (authorization?: string) =>
  new Request("http://x/token", { method: "POST", headers: authorization ? { authorization } : {} });
const basicHeader = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;
const auth = (req: Request, form: string, mode: "open" | "password" = "password", allowPublic = true) =>
  authenticateClient(req, parseForm(form), { mode, clients, allowPublic });
const refused = (basic: boolean) => (error: unknown) =>
  error instanceof OAuthError && error.oauthCode === "invalid_client" && error.status === 401 &&
  (error.headers?.["www-authenticate"] !== undefined) === basic;

Deno.test("client_secret_basic, client_secret_post and none", async () => {
  assert.equal((await auth(request(basicHeader("svc", "s3cret")), "")).method, "client_secret_basic");
  assert.equal((await auth(request(), "client_id=svc&client_secret=s3cret")).method, "client_secret_post");
  assert.deepEqual(await auth(request(), "client_id=app"), { id: "app", record: pub, method: "none" });
  assert.equal(
    (await auth(request(basicHeader("app", "")), "")).id,
    "app",
    "Basic with an empty secret is a public client",
  );
});

Deno.test("Basic credentials are form-urlencoded halves (RFC 6749 §2.3.1)", () => {
  assert.deepEqual(basicClient(request(`Basic ${btoa("a%3Ab:c+d%25")}`)), { id: "a:b", secret: "c d%" });
  assert.equal(basicClient(request("Bearer abc")), null, "a Bearer header is not client authentication");
  assert.throws(() => basicClient(request("Basic !!!")), refused(true));
  assert.throws(() => basicClient(request(`Basic ${btoa("no-colon")}`)), refused(true));
});

Deno.test("refusals: 401 invalid_client, with a Basic challenge only when Basic was used", async () => {
  await assert.rejects(auth(request(basicHeader("svc", "wrong")), ""), refused(true));
  await assert.rejects(auth(request(), "client_id=svc&client_secret=wrong"), refused(false));
  await assert.rejects(auth(request(), "client_id=svc"), refused(false), "a confidential client must send its secret");
  await assert.rejects(auth(request(), "client_id=app&client_secret=x"), refused(false));
  await assert.rejects(auth(request(), "client_id=app", "password", false), refused(false));
  await assert.rejects(auth(request(), "client_id=nobody"), refused(false));
  await assert.rejects(auth(request(), ""), refused(false));
  await assert.rejects(
    auth(request(basicHeader("svc", "s3cret")), "client_secret=s3cret"),
    (error: OAuthError) => error.oauthCode === "invalid_request",
  );
});

Deno.test("open mode: any other client_id, or none, without a secret; registered clients still prove themselves", async () => {
  assert.deepEqual(await auth(request(), "client_id=whatever", "open"), {
    id: "whatever",
    record: null,
    method: "none",
  });
  assert.equal((await auth(request(), "", "open")).id, "anonymous");
  await assert.rejects(auth(request(), "client_id=svc", "open"), refused(false));
});
