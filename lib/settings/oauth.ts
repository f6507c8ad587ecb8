/**
 * The settings of the OAuth token service, which only `serve` takes: how long open mode's
 * `ttl` control may make a token live, and how long a refresh token lasts.
 * @module
 */
import { duration, Invalid, setting } from "./define.ts";

/** The longest `--max-token-ttl`: a mock token that outlives a week is a mistake. */
const MAX_MAX_TOKEN_TTL = 7 * 86_400;

/** The OAuth settings. */
export const OAUTH_SETTINGS = Object.freeze({
  maxTokenTtl: setting({
    flag: "max-token-ttl",
    env: ["MAX_TOKEN_TTL"],
    arg: "DURATION",
    help: "longest ttl open mode lets /auth and /token ask for (default 1h, at most 7d)",
    scope: "serve",
    fallback: 3600,
    parse: (text) => {
      const seconds = duration(1)(text);
      if (seconds > MAX_MAX_TOKEN_TTL) throw new Invalid(`must be at most ${MAX_MAX_TOKEN_TTL} seconds (7d)`);
      return seconds;
    },
  }),
  refreshTokenTtl: setting({
    flag: "refresh-token-ttl",
    env: ["REFRESH_TOKEN_TTL"],
    arg: "DURATION",
    help: "lifetime of each refresh token; every rotation starts a new one (default 14d)",
    scope: "serve",
    fallback: 14 * 86_400,
    parse: duration(60),
  }),
});
