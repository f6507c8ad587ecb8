/**
 * The purge of OAuth rows that can no longer matter (revoked `jti`s past their `exp`, expired
 * refresh tokens, grants left without one), run from the maintenance tick at most once per
 * interval. A failure is logged and retried at the next interval; it never fails the tick.
 * @module
 */
import type { Logger } from "../ops/log.ts";
import type { OAuthStore } from "../store/oauth_ports.ts";

/** Options of {@linkcode oauthPurger}. */
export interface PurgeOptions {
  /** Unix milliseconds now. */
  readonly clock: () => number;
  readonly log: Logger;
  /** Milliseconds between purges. Default 60,000. */
  readonly everyMs?: number;
}

/** A function for the tick: purges when the interval has passed since the last purge. */
export function oauthPurger(store: Pick<OAuthStore, "purgeOAuth">, options: PurgeOptions): () => Promise<void> {
  const every = options.everyMs ?? 60_000;
  let next = 0;
  return async () => {
    const now = options.clock();
    if (now < next) return;
    next = now + every;
    try {
      const purged = await store.purgeOAuth(Math.floor(now / 1000));
      if (purged.revokedJtis + purged.refreshTokens + purged.grants + purged.codes > 0) {
        options.log.info("oauth_purged", { ...purged });
      }
    } catch (error) {
      options.log.error("oauth_purge_failed", { error });
    }
  };
}
