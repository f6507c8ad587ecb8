/**
 * `POST /auth`: the course's token endpoint, `{"token": "<JWT>"}` for credentials in a JSON or
 * form body or `Authorization: Basic` (a Bearer header is ignored), `?expired=true` for a token
 * signed by the newest expired key. Who gets a token is the login policy's decision
 * (`lib/users/login.ts`); the rate limit runs before the body is read. In open mode the
 * mock-issuer controls (`aud`, `scope`, `ttl`, `nbf`, `iss`, `claims`; `lib/oauth/mock.ts`)
 * shape the token; password mode ignores them.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyView } from "../core/key_ring.ts";
import { issueToken } from "../core/tokens.ts";
import { credentialsOf, readFields } from "../http/body.ts";
import { json, NO_STORE } from "../http/respond.ts";
import { type Middleware, type Route, use } from "../http/router.ts";
import type { LoginEvent } from "../store/ports.ts";
import type { LoginPolicy } from "../users/login.ts";
import { parseMockControls } from "../oauth/mock.ts";

/** What `POST /auth` needs. */
export interface AuthDeps {
  readonly login: LoginPolicy;
  /** The key view and the time in unix seconds (a `KeyManager`). */
  readonly keys: { view(): KeyView; now(): number };
  readonly issuer: string;
  /** `aud` of issued tokens, or null for none. */
  readonly audience: string | null;
  /** Token lifetime, seconds. */
  readonly tokenTtl: number;
  /** The longest `ttl` open mode's controls accept, seconds. Default `tokenTtl`. */
  readonly maxTokenTtl?: number;
  /** How far in the past (at least) `?expired=true` puts `exp`, seconds: clock skew + 60. Default 1. */
  readonly expiredBy?: number;
  /** Unix milliseconds now. */
  readonly clock: () => number;
  /**
   * Takes successful logins for `auth_logs`; must not block. While `healthy` is false (writes
   * fail: disk full, read-only file) logins are refused with 503, since they could not be logged.
   */
  readonly loginLog: { record(event: LoginEvent): void; readonly healthy?: boolean } | null;
  /** Runs before the body is read (the rate limit). */
  readonly guard?: Middleware;
  /** Told about each token signed. */
  readonly onIssued?: (alg: string, expired: boolean) => void;
}

/** `?expired`, `?expired=true` → true; absent or `false` → false; anything else → 400. */
export function parseExpired(query: string): boolean {
  if (query === "") return false;
  const values = new URLSearchParams(query).getAll("expired");
  if (values.length === 0) return false;
  const distinct = new Set(values.map((value) => value.toLowerCase()));
  if (distinct.size === 1) {
    const value = [...distinct][0];
    if (value === "" || value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
  }
  throw new AppError("bad_request", 'Query parameter "expired" must be true or false');
}

/** The `POST /auth` route. */
export function authRoutes(deps: AuthDeps): Route[] {
  const post = use(async (ctx) => {
    const expired = parseExpired(ctx.query);
    if (deps.loginLog?.healthy === false) {
      throw new AppError("unavailable", "Logins cannot be recorded right now; try again shortly", { retryAfter: 2 });
    }
    const fields = await readFields(ctx.request);
    const credentials = credentialsOf(ctx.request, fields);
    const mock = deps.login.mode === "open"
      ? parseMockControls(fields, { maxTtl: deps.maxTokenTtl ?? deps.tokenTtl, now: deps.keys.now() })
      : {};
    const { subject, userId } = await deps.login.authenticate(credentials, deps.clock(), { ip: ctx.ip });
    const issued = await issueToken(deps.keys.view(), subject, {
      issuer: mock.issuer ?? deps.issuer,
      audience: mock.audience ?? deps.audience,
      ttl: mock.ttl ?? deps.tokenTtl,
      now: deps.keys.now(),
      expired,
      expiredBy: deps.expiredBy ?? 1,
      ...(mock.notBefore === undefined ? {} : { notBefore: mock.notBefore }),
      ...(mock.claims === undefined && mock.scope === undefined
        ? {}
        : { claims: { ...mock.claims, ...(mock.scope === undefined ? {} : { scope: mock.scope.join(" ") }) } }),
    });
    deps.onIssued?.(issued.alg, expired);
    deps.loginLog?.record({ userId, ip: ctx.ip, at: deps.clock() });
    return json(ctx, 200, { token: issued.token }, NO_STORE);
  }, ...(deps.guard ? [deps.guard] : []));
  return [{ path: "/auth", methods: { POST: post } }];
}
