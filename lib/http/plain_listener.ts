/**
 * The listener for a runtime without per-connection serving: plain `Deno.serve`, which has no
 * connection limits and whose accept loop ends for good at the descriptor limit, so it is
 * brought back at once whenever it stops. Also the throttle of the listeners' events.
 * @module
 */
import type { GuardedListener, ListenerEvent, ListenOptions, ServeHandler } from "./connections.ts";

/** Calls `emit` at most once per `ms` per event name. */
export function throttled(emit: (event: ListenerEvent) => void, ms = 10_000): (event: ListenerEvent) => void {
  const last = new Map<string, number>();
  return (event) => {
    const now = performance.now();
    if (now - (last.get(event.event) ?? -Infinity) < ms) return;
    last.set(event.event, now);
    emit(event);
  };
}

/** `Deno.serve` without limits, brought back at once whenever its accept loop ends. */
export function plainServe(
  options: ListenOptions,
  handler: ServeHandler,
  emit: (event: ListenerEvent) => void,
): GuardedListener {
  emit({ event: "connection_limits_unavailable", reason: "this Deno has no per-connection serving" });
  let stopping = false;
  let current: Deno.HttpServer;
  let port = options.port;
  const start = (first: boolean): void => {
    current = Deno.serve({
      hostname: options.hostname,
      port,
      onListen: (addr) => {
        // Back on the same port when the first one was picked by the system (--port 0).
        port = addr.port;
        if (first) options.onListen(addr);
      },
    }, handler);
    current.finished.catch((error) => {
      if (stopping) return;
      emit({ event: "listener_restarted", reason: error instanceof Error ? error.message : String(error) });
      const retry = () => {
        try {
          start(false);
        } catch {
          setTimeout(retry, 100);
        }
      };
      retry();
    });
  };
  start(true);
  return {
    async shutdown() {
      stopping = true;
      await current.shutdown();
    },
    stats: () => null,
  };
}
