/**
 * The mutants `deno task mutate` runs (`scripts/mutate.ts`): each one a bug we could plausibly
 * write, as an exact snippet of one lib file (found exactly once) and its replacement, run
 * against the module's own test file unless `tests` says otherwise. Add a mutant for every bug
 * fixed from now on. tokens.ts, key_ring.ts and login_log.ts are left out while they are being
 * rewritten, and so is lib/store/.
 * @module
 */

/** One mutant. */
export interface Mutant {
  /** Short stable name, for `--only`. */
  readonly id: string;
  /** Path from the repository root. */
  readonly file: string;
  /** Text that must occur exactly once in `file`. */
  readonly find: string;
  readonly replace: string;
  /** The bug it stands for, in one line. */
  readonly description: string;
  /** Test files to run; default: the module's own (`lib/x/y.ts` → `tests/x/y_test.ts`). */
  readonly tests?: readonly string[];
}

/** The mirrored test file of a lib module. */
export function defaultTests(file: string): string[] {
  return [file.replace(/^lib\//, "tests/").replace(/\.ts$/, "_test.ts")];
}

const lifecycle = "lib/core/key_lifecycle.ts";
const policy = "lib/core/key_policy.ts";
const material = "lib/core/key_material.ts";
const seal = "lib/core/seal.ts";
const units = "lib/core/units.ts";
const rate = "lib/core/rate_limit.ts";
const backoff = "lib/users/backoff.ts";
const queue = "lib/users/hash_queue.ts";
const users = "lib/users/users.ts";
const login = "lib/users/login.ts";
const router = "lib/http/router.ts";
const body = "lib/http/body.ts";
const middleware = "lib/http/middleware.ts";
const respond = "lib/http/respond.ts";
const listener = "lib/http/listener.ts";
const verify = "lib/cli/verify_remote.ts";

/** Every mutant. */
export const MUTANTS: readonly Mutant[] = Object.freeze([
  // The key lifecycle planner.
  {
    id: "lifecycle-state-at-exp",
    file: lifecycle,
    find: "if (key.exp <= now || key.revokedAt !== null)",
    replace: "if (key.exp < now || key.revokedAt !== null)",
    description: "keyState() calls a key still published at exactly its exp",
  },
  {
    id: "lifecycle-overdue-successor-next-run",
    file: lifecycle,
    find: "for (let more = 0; more < 2 && due(); more++) (chain.push(create(now)), link());",
    replace: "",
    description: "a key whose turn was overdue gets its successor only on the next run, so planning again is not empty",
  },
  {
    id: "lifecycle-purge-kept-key",
    file: lifecycle,
    find: ".filter((slot) => slot !== kept && slot.exp + policy.retention <= now",
    replace: ".filter((slot) => slot.exp + policy.retention <= now",
    description: "the purge no longer spares the newest expired key (?expired=true loses its key)",
  },
  {
    id: "lifecycle-keep-oldest-expired",
    file: lifecycle,
    find: ".sort((a, b) => b.exp - a.exp || b.id! - a.id!)[0];",
    replace: ".sort((a, b) => a.exp - b.exp || a.id! - b.id!)[0];",
    description: "the oldest expired key is kept for ?expired=true instead of the newest",
  },
  {
    id: "lifecycle-no-lead-time",
    file: lifecycle,
    find: "Math.max(prev.wantsRetireAt, earliest(slot), now, prev.activatesAt + 1)",
    replace: "Math.max(prev.wantsRetireAt, now, prev.activatesAt + 1)",
    description: "a next key may sign before it has been published for the lead time",
  },
  {
    id: "lifecycle-revoked-signer-waits",
    file: lifecycle,
    find: "    head.activatesAt = now;\n",
    replace: "",
    description: "after the signing key is revoked its successor waits for its slot instead of signing at once",
  },
  {
    id: "lifecycle-rotate-ignored",
    file: lifecycle,
    find: 'if (intent.kind === "rotate") active.wantsRetireAt = now;',
    replace: "",
    description: "keys rotate asks for no early handover",
  },
  {
    id: "lifecycle-alg-change-keeps-old-keys",
    file: lifecycle,
    find: "for (const slot of waiting) withdraw(slot, now);",
    replace: "for (const slot of waiting) void slot;",
    description: "a change of --alg leaves the waiting keys of the old algorithm in the chain",
  },
  {
    id: "lifecycle-import-duplicate",
    file: lifecycle,
    find: 'intent.kind === "import" && keys.some((key) => key.kid === intent.material.kid)',
    replace: 'intent.kind === "import" && keys.every((key) => key.kid === intent.material.kid)',
    description: "importing a kid that already exists is not refused",
  },
  {
    id: "lifecycle-short-window",
    file: lifecycle,
    find: "slot.exp = slot.retiresAt + window;",
    replace: "slot.exp = slot.retiresAt + window - policy.maxAge;",
    description: "a retired key leaves the JWKS before verifiers' caches of it expire",
  },
  {
    id: "lifecycle-signed-exp-shrinks",
    file: lifecycle,
    find: "slot.exp = Math.max(slot.exp, floor);",
    replace: "slot.exp = Math.min(slot.exp, floor);",
    description: "a restart with a shorter token lifetime unpublishes a key while its tokens are valid",
  },
  // The key policy.
  {
    id: "policy-lead-without-margin",
    file: policy,
    find: "lead: maxAge + 30,",
    replace: "lead: maxAge,",
    description: "the lead time has no margin over the JWKS max-age",
  },
  {
    id: "policy-window-without-skew",
    file: policy,
    find: "window: tokenTtl + clockSkew + maxAge,",
    replace: "window: tokenTtl + maxAge,",
    description: "retired keys are not kept long enough for skewed clocks",
  },
  {
    id: "policy-max-age-uncapped",
    file: policy,
    find: "Math.min(MAX_JWKS_MAX_AGE, Math.floor(rotationInterval / 4))",
    replace: "Math.floor(rotationInterval / 4)",
    description: "the JWKS max-age is not capped at 5 minutes",
  },
  {
    id: "policy-minimum-interval-refused",
    file: policy,
    find: "if (!(rotationInterval >= MIN_ROTATION_INTERVAL))",
    replace: "if (!(rotationInterval > MIN_ROTATION_INTERVAL))",
    description: "the shortest rotation interval the help promises (60 s) is refused",
  },
  // Key material.
  {
    id: "material-drops-public-member",
    file: material,
    find: "    out[member] = value;\n",
    replace: "",
    description: "JWKS entries lose their public members (n, e, x, y, crv)",
  },
  {
    id: "material-rsa-2048-refused",
    file: "lib/core/key_checks.ts",
    find: "if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {",
    replace: "if (bits <= RSA_MIN_BITS || bits > RSA_MAX_BITS) {",
    description: "2048-bit RSA keys, the minimum we accept, are refused",
  },
  {
    id: "material-any-curve-es256",
    file: material,
    find: '(jwk.kty === "EC" && jwk.crv === "P-256" && alg === "ES256")',
    replace: '(jwk.kty === "EC" && alg === "ES256")',
    description: "a P-384 key is accepted for ES256",
  },
  {
    id: "material-jwk-alg-ignored",
    file: material,
    find: "if (isAlg(jwk.alg)) return jwk.alg;",
    replace: "",
    description: "an imported JWK's own alg (PS256) is ignored",
  },
  {
    id: "material-extractable-signer",
    file: material,
    find: "{ extractable: false }",
    replace: "{ extractable: true }",
    description: "signing keys can be exported from WebCrypto",
  },
  // Sealing at rest.
  {
    id: "seal-version-low-bit",
    file: seal,
    find: "if (blob[0] !== SEAL_VERSION)",
    replace: "if ((blob[0]! & 0xfe) !== (SEAL_VERSION & 0xfe))",
    description: "the version-byte check ignores its low bit, so a flipped version byte still opens",
  },
  {
    id: "seal-kid-not-bound",
    file: seal,
    find: "`jwks-server/v${SEAL_VERSION}/kid:${kid}`",
    replace: "`jwks-server/v${SEAL_VERSION}/kid:`",
    description: "a sealed blob copied to another row still opens",
  },
  {
    id: "seal-fixed-nonce",
    file: seal,
    find: "crypto.getRandomValues(new Uint8Array(NONCE_BYTES))",
    replace: "new Uint8Array(NONCE_BYTES)",
    description: "every blob is sealed with the same nonce",
  },
  {
    id: "seal-truncation-unchecked",
    file: seal,
    find: "if (blob.byteLength < HEADER_BYTES + TAG_BYTES)",
    replace: "if (blob.byteLength < HEADER_BYTES)",
    description: "a truncated blob is not named as such",
  },
  {
    id: "seal-empty-secret",
    file: seal,
    find: "if (ikm.byteLength < MIN_SECRET_BYTES)",
    replace: "if (ikm.byteLength < 0)",
    description: "an empty master secret is accepted",
  },
  // Units.
  {
    id: "units-hour",
    file: units,
    find: "h: 3600, d: 86_400",
    replace: "h: 360, d: 86_400",
    description: "a duration in hours is read ten times too short",
  },
  {
    id: "units-zero-rate",
    file: units,
    find: "if (limit < 1 || windowMs < 1) return undefined;",
    replace: "if (windowMs < 1) return undefined;",
    description: "a rate limit of 0 requests is accepted",
  },
  {
    id: "units-kib",
    file: units,
    find: "kib: 1024,",
    replace: "kib: 1000,",
    description: "KiB is read as 1000 bytes",
  },
  // The rate limiter.
  {
    id: "rate-lru-order-lost",
    file: rate,
    find: "    this.#logs.delete(key);\n    const decision",
    replace: "    const decision",
    description: "a check no longer moves its key to the back, so the busiest key can be evicted first",
  },
  {
    id: "rate-window-edge",
    file: rate,
    find: "times[drop]! <= since",
    replace: "times[drop]! < since",
    description: "a request exactly one window old still counts",
  },
  {
    id: "rate-refusals-counted",
    file: rate,
    find: "  return { allowed: false, limit: policy.limit, remaining: 0,",
    replace: "  times.push(now);\n  return { allowed: false, limit: policy.limit, remaining: 0,",
    description: "refused requests count against the window, so a flood never ends",
  },
  {
    id: "rate-reset-while-remaining",
    file: rate,
    find: "resetMs: remaining > 0 ? 0 : times[0]! + policy.windowMs - now,",
    replace: "resetMs: times[0]! + policy.windowMs - now,",
    description: "RateLimit-Reset says to wait although requests remain",
  },
  // Login backoff, hashing queue, users, login policy.
  {
    id: "backoff-one-free-failure-less",
    file: backoff,
    find: "const over = entry.count - this.policy.freeFailures;",
    replace: "const over = entry.count - this.policy.freeFailures + 1;",
    description: "the last free failure already locks the username",
  },
  {
    id: "backoff-uncapped",
    file: backoff,
    find: "Math.min(this.policy.maxMs, this.policy.baseMs",
    replace: "Math.max(this.policy.maxMs, this.policy.baseMs",
    description: "the wait is never below the cap",
  },
  {
    id: "backoff-lru-order-lost",
    file: backoff,
    find: "    this.#entries.delete(name);\n    entry.count++;",
    replace: "    entry.count++;",
    description: "eviction forgets the first username seen instead of the least recently failed",
  },
  {
    id: "backoff-success-forgotten",
    file: backoff,
    find: "  succeed(key: AttemptKey): void {\n    this.#entries.delete(keyOf(key));",
    replace: "  succeed(key: AttemptKey): void {\n    void key;",
    description: "a successful login does not reset the backoff",
  },
  {
    id: "queue-one-more-waiter",
    file: queue,
    find: "if (this.#depth >= this.maxQueue) {",
    replace: "if (this.#depth > this.maxQueue) {",
    description: "the hashing backlog takes one more login than its bound",
  },
  {
    id: "queue-slot-dips",
    file: queue,
    find: "if (next === undefined) this.#running--;\n      else next.start();",
    replace: "this.#running--;\n      next?.start();",
    description: "handing a slot to a waiter lets one more hash run than the cap",
  },
  {
    id: "queue-rejections-uncounted",
    file: queue,
    find: "  #refuse(): never {\n    this.rejected++;\n",
    replace: "  #refuse(): never {\n",
    description: "refused logins are not counted for /metrics",
  },
  {
    id: "users-no-dummy-hash",
    file: users,
    find: "user?.passwordHash ?? await this.#dummy()",
    replace: 'user?.passwordHash ?? ""',
    description: "an unknown username is checked against no real hash, so it answers faster than a known one",
  },
  {
    id: "users-backoff-not-reset",
    file: users,
    find: "    this.backoff?.succeed(key);\n",
    replace: "",
    description: "a successful login leaves the username's failures in place",
  },
  {
    id: "users-seed-not-reset",
    file: users,
    find: "if (existing !== null && await this.#hasher.verify(existing.passwordHash, password)) return existing;",
    replace: 'if (existing !== null && existing.username !== "") return existing;',
    description: "--seed-user with a new password keeps the old one",
  },
  {
    id: "login-open-impersonation",
    file: login,
    find: "if (users !== null && await users.find(username) !== null)",
    replace: "if (users !== null && await users.find(username) === null)",
    description: "open mode hands out tokens for registered users without their password",
  },
  {
    id: "login-empty-username",
    file: login,
    find: '|| password === undefined || username === "")',
    replace: "|| password === undefined)",
    description: "an empty username in password mode is checked as a user instead of refused as missing",
  },
  {
    id: "login-lockout-unreported",
    file: login,
    find: 'if (hasCode(error, "too_many_attempts")) options.onFailure?.("locked_out");',
    replace: "",
    description: "locked-out logins are not counted",
  },
  // The edge.
  {
    id: "router-head-body",
    file: router,
    find: 'if (request.method === "HEAD" && response.body !== null)',
    replace: 'if (request.method === "HEAD" && response.body === null)',
    description: "HEAD answers carry the GET body",
  },
  {
    id: "router-allow-without-head",
    file: router,
    find: 'if (methods.includes("GET")) methods.push("HEAD");',
    replace: "",
    description: "Allow leaves out HEAD on GET routes",
  },
  {
    id: "router-long-request-id",
    file: router,
    find: "/^[A-Za-z0-9._:@-]{1,128}$/",
    replace: "/^[A-Za-z0-9._:@-]{1,1024}$/",
    description: "an absurdly long client request id is echoed",
  },
  {
    id: "router-cors-everywhere",
    file: router,
    find: "      if (route.cors) {\n",
    replace: "      if (route.cors || true) {\n",
    description: "preflight opens CORS on endpoints that take credentials",
  },
  {
    id: "router-shadowed-path",
    file: router,
    find: 'if (table.has(route.path)) throw new Error(`Two routes claim the path "${route.path}"`);',
    replace: "",
    description: "two route modules may claim one path, the later silently winning",
  },
  {
    id: "body-length-trusted-late",
    file: body,
    find: "  if (expected !== null && expected > limit) throw tooLarge(limit);\n",
    replace: "",
    description: "an announced oversized body is read before it is refused",
  },
  {
    id: "listener-cuts-ended-connection",
    file: listener,
    find: "        served.ending = true;\n        table.release(served);",
    replace: "        table.release(served);",
    description: "the cut scheduled after a refused body aborts a connection that already ended (BadResource)",
  },
  {
    id: "body-announced-unbounded",
    file: body,
    find: '    time?.signal.addEventListener("abort", onAbort, { once: true });\n    request.bytes()',
    replace: "    request.bytes()",
    description: "a body of announced length that stalls is waited for past the listener's deadline",
  },
  {
    id: "body-double-limit",
    file: body,
    find: "    if (size > limit) {",
    replace: "    if (size > limit * 2) {",
    description: "a chunked body may grow past the limit",
  },
  {
    id: "body-json-array",
    file: body,
    find: 'if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))',
    replace: 'if (parsed === null || typeof parsed !== "object")',
    description: "a JSON array is taken for a record of fields",
  },
  {
    id: "body-basic-case",
    file: body,
    find: "if (!/^basic\\s+/i.test(header)) return null;",
    replace: "if (!/^Basic\\s+/.test(header)) return null;",
    description: "a lower-case Basic scheme is not read",
  },
  {
    id: "body-basic-over-body",
    file: body,
    find: "if (username !== undefined) return password === undefined ? { username } : { username, password };",
    replace: "",
    description: "Basic credentials win over the username and password in the body",
  },
  {
    id: "middleware-bearer-prefix",
    file: middleware,
    find: "timingSafeEqual(digest(match[1]!), expected)",
    replace: "token.startsWith(match[1]!)",
    description: "a prefix of the admin token is accepted",
  },
  {
    id: "middleware-rate-headers-on-errors",
    file: middleware,
    find: "return errorResponse(ctx, error, headers);",
    replace: "throw error;",
    description: "error answers of a rate-limited route lose their RateLimit-* headers",
  },
  {
    id: "middleware-no-store-appended",
    file: middleware,
    find: 'response.headers.set("cache-control", "no-store");',
    replace: 'response.headers.append("cache-control", "no-store");',
    description: "no-store is appended to a cacheable Cache-Control instead of replacing it",
  },
  {
    id: "respond-413-as-400",
    file: respond,
    find: "payload_too_large: 413,",
    replace: "payload_too_large: 400,",
    description: "an oversized body answers 400",
  },
  {
    id: "respond-crash-unreported",
    file: respond,
    find: "    ctx.report(error);\n    return json(ctx, 500",
    replace: "    return json(ctx, 500",
    description: "an unexpected error is answered but never logged",
  },
  {
    id: "respond-503-unreported",
    file: respond,
    find: "if (status >= 500) ctx.report(error);",
    replace: "if (status > 500) ctx.report(error);",
    description: "a 500 AppError is not logged",
  },
  {
    id: "respond-challenge-overwritten",
    file: respond,
    find: 'extra["www-authenticate"] ??= \'Basic',
    replace: 'extra["www-authenticate"] = \'Basic',
    description: "the admin API's Bearer challenge is replaced by the Basic one",
  },
  // The routes.
  {
    id: "admin-body-before-token",
    file: "lib/routes/admin.ts",
    find: "({ path, methods, use: [guard] })",
    replace:
      "({ path, methods, use: [(next) => async (ctx) => (await readText(ctx.request.clone()), await next(ctx)), guard] })",
    description: "the admin guard runs after the body is read: an unauthenticated 65 KiB import answers 413, not 401",
  },
  {
    id: "admin-reads-audited",
    file: "lib/routes/admin.ts",
    find: 'if (ctx.request.method !== "GET") log.info("admin_action", where(ctx));',
    replace: 'log.info("admin_action", where(ctx));',
    description: "every admin read fills the audit log",
  },
  {
    id: "auth-bare-expired",
    file: "lib/routes/auth.ts",
    find: 'if (value === "" || value === "true" || value === "1") return true;',
    replace: 'if (value === "true" || value === "1") return true;',
    description: "a bare ?expired is refused",
  },
  {
    id: "auth-unrecordable-logins",
    file: "lib/routes/auth.ts",
    find: "if (deps.loginLog?.healthy === false) {",
    replace: "if (deps.loginLog?.healthy === undefined) {",
    description: "logins are answered while they cannot be written to auth_logs",
  },
  {
    id: "auth-log-without-ip",
    file: "lib/routes/auth.ts",
    find: "record({ userId, ip: ctx.ip, at: deps.clock() })",
    replace: 'record({ userId, ip: "unknown", at: deps.clock() })',
    description: "auth_logs rows lose the client IP",
  },
  {
    id: "jwks-weak-etag",
    file: "lib/routes/jwks.ts",
    find: '.replace(/^W\\//, "")',
    replace: "",
    description: "a weak If-None-Match never matches",
  },
  {
    id: "jwks-304-without-etag",
    file: "lib/routes/jwks.ts",
    find: "{ status: 304, headers: { ...headersOf(doc), ",
    replace: "{ status: 304, headers: { ",
    description: "a 304 carries no ETag or Cache-Control",
  },
  {
    id: "health-lead-unchecked",
    file: "lib/routes/health.ts",
    find: "view.next.activatesAt - view.next.publishedAt < deps.lead",
    replace: "view.next.activatesAt - view.next.publishedAt < 0",
    description: "readiness accepts a next key published too late",
  },
  {
    id: "health-reason-hidden",
    file: "lib/routes/health.ts",
    find: 'hasCode(error, "unavailable") ? error.message : "database does not answer"',
    replace: '"database does not answer"',
    description: "readiness no longer says what is wrong with the database file",
  },
  // verify.
  {
    id: "verify-follows-redirects",
    file: verify,
    find: "const response = await fetchImpl(input, init);",
    replace: 'const response = await fetchImpl(input, { ...init, redirect: "follow" });',
    description: "verify follows redirects, so a key set can be served from anywhere it points to",
  },
  {
    id: "verify-204-not-json",
    file: verify,
    find: "if (status !== 200) {",
    replace: "if (status < 200 || status > 299) {",
    description: 'a 204 key set is reported as "not JSON" instead of the wrong status',
  },
  {
    id: "verify-no-tolerance",
    file: verify,
    find: "const tolerance = options.clockTolerance ?? 60;",
    replace: "const tolerance = options.clockTolerance ?? 0;",
    description: "verify tolerates no clock skew by default",
  },
  // Settings.
  {
    id: "settings-dotenv-over-env",
    file: "lib/settings.ts",
    find: "    const value = env[name];\n",
    replace: "    const value = dotenv[name] ?? env[name];\n",
    description: ".env wins over the environment",
  },
  {
    id: "settings-wildcard-issuer",
    file: "lib/settings.ts",
    find: 'host === "0.0.0.0" ? "127.0.0.1" : host',
    replace: "host",
    description: "--hostname 0.0.0.0 makes http://0.0.0.0:PORT the issuer",
  },
  {
    id: "settings-boolean-flag-ignored",
    file: "lib/settings.ts",
    find: 'if (typeof flag === "boolean") return { value: String(flag), name: `--${spec.flag}` };',
    replace: "",
    description: "a flag given as a boolean is ignored",
  },
  {
    id: "clients-id-leading-dash",
    file: "lib/oauth/clients.ts",
    find: "if (/^[A-Za-z0-9]/.test(id)) return id;",
    replace: "return id;",
    description: "a client id may start with '-', which the CLI reads as an option (clients remove)",
  },
  {
    id: "bytes-read-past-max",
    file: "lib/core/bytes.ts",
    find: "while (size < max) {",
    replace: "while (size < max * 2) {",
    description: "a bounded read keeps reading an endless stream",
  },
  {
    id: "password-grant-backoff-ignores-ip",
    file: "lib/oauth/grant_password.ts",
    find: "        deps.clock(),\n        { ip },\n",
    replace: "        deps.clock(),\n",
    description: "the password grant backs off per username only, so anyone can lock a user out of /token",
    tests: ["tests/routes/token_test.ts"],
  },
  {
    id: "cli-dash-kid-is-an-option",
    file: "lib/cli/parse.ts",
    find: 'THUMBPRINT.test(arg) && arg.startsWith("-")',
    replace: "false",
    description: "a kid led by '-' (1 in 64) is read as an unknown option: keys revoke fails on it",
  },
  {
    id: "jwk-bytes-keeps-der-sign-byte",
    file: "lib/core/jwk_bytes.ts",
    find: "while (start < item.end - 1 && der[start] === 0) start++;",
    replace: "",
    description: "a generated RSA key is sealed with the DER sign byte in its members (not Base64urlUInt)",
  },
  {
    id: "body-timeout-reads-as-done",
    file: body,
    find: "      if (time?.signal.aborted) throw timedOut(time.ms);\n      const { done, value } = chunk;",
    replace: "      const { done, value } = chunk;",
    description: "a body cut at its deadline reads as complete: the handler gets half a body instead of a 408",
  },
  {
    id: "sink-splits-batch-line",
    file: "lib/ops/sink.ts",
    find: "    if (read < line.length) return false;\n",
    replace: "",
    description: "a log line that does not fit the rest of the batch buffer is written cut short",
  },
  {
    id: "login-batch-drops-remainder",
    file: "lib/store/sql_upkeep.ts",
    find: "export const LOGIN_INSERT_ROWS: readonly number[] = Object.freeze([64, 16, 4, 1]);",
    replace: "export const LOGIN_INSERT_ROWS: readonly number[] = Object.freeze([64, 16, 4]);",
    description: "the last 1-3 logins of a batch are never written to auth_logs",
    tests: ["tests/store/ports_test.ts"],
  },
  {
    id: "node-crypto-skips-self-test",
    file: "lib/signing/node_crypto.ts",
    find: "      await selfTest((data) => signer.sign(data), key.publicJwk, alg);\n",
    replace: "",
    description: "node:crypto holds an Ed25519 private key that is not its public key's pair and signs with it",
    tests: ["tests/signing/node_crypto_test.ts"],
  },
  {
    id: "choose-eddsa-not-node-crypto",
    file: "lib/signing/choose.ts",
    find: 'export const OPENSSL_ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256"]);',
    replace: 'export const OPENSSL_ALGS: readonly Alg[] = Object.freeze(["RS256", "PS256", "ES256", "EdDSA"]);',
    description: "EdDSA signs through OpenSSL by default, not through node:crypto (the faster one)",
    tests: ["tests/signing/choose_test.ts"],
  },
  {
    id: "read-batch-never-batches",
    file: "lib/store/read_batch.ts",
    find: "    else if (this.#waiting.length === 1) this.#defer(() => this.flush());",
    replace: "    else if (this.#waiting.length === 1) this.flush();",
    description: "batched reads run as they are asked, so a turn's reads never share one read lock",
    tests: ["tests/store/read_batch_test.ts"],
  },
  {
    id: "read-batch-one-failure-fails-all",
    file: "lib/store/read_batch.ts",
    find: "          reject(error);\n        }\n      }",
    replace: "          for (const other of batch) other.reject(error);\n          return;\n        }\n      }",
    description: "one failing lookup fails every other request's lookup of the same turn",
    tests: ["tests/store/read_batch_test.ts"],
  },
]);
