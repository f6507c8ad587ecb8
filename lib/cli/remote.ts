/**
 * The key commands against a running server's admin API instead of its database:
 * `keys list|rotate|revoke|import --server URL` and `keygen --upload URL`. The admin token
 * comes from `ADMIN_TOKEN` (never argv, where other users of the machine could read it), and
 * private keys and the token go over https, or plain http to this machine only. Answers are the
 * admin API's JSON, printed like the local commands print theirs.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { KeyInfo, KeyReport } from "../keys/key_reports.ts";
import type { CommandIo } from "./spec.ts";

/** A running server's admin API. */
export interface RemoteServer {
  /** The server's base URL, without a trailing slash. */
  readonly base: string;
  readonly token: string;
  readonly fetch: typeof fetch;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The server `url` names (`--server` or `--upload`), with `ADMIN_TOKEN`. Throws `usage` for a
 * URL that is not http(s) or sends secrets in the clear to another host, `invalid_config`
 * without a token.
 */
export function remoteServer(url: string, io: Pick<CommandIo, "env" | "dotenv" | "fetch">, flag: string): RemoteServer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError("usage", `Invalid ${flag} "${url}": expected the server's URL, such as http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new AppError("usage", `Invalid ${flag} "${url}": expected an http:// or https:// URL`);
  }
  if (parsed.protocol === "http:" && !LOOPBACK.test(parsed.hostname)) {
    throw new AppError(
      "usage",
      `Refusing to send ADMIN_TOKEN and keys over plain http to "${parsed.hostname}": use https:// ` +
        "(or an SSH tunnel to 127.0.0.1)",
    );
  }
  const token = io.env.ADMIN_TOKEN ?? io.dotenv?.ADMIN_TOKEN;
  if (token === undefined || token === "") {
    throw new AppError(
      "invalid_config",
      "Set ADMIN_TOKEN to the server's admin token (it is read from the environment, never from the command line)",
    );
  }
  const base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
  return { base, token, fetch: io.fetch ?? fetch };
}

/** The message of an admin API error body, if it has one. */
async function reason(response: Response): Promise<string> {
  try {
    const body = await response.json();
    return typeof body?.message === "string" ? body.message : `status ${response.status}`;
  } catch {
    return `status ${response.status}`;
  }
}

/** Calls the admin API; the parsed JSON answer, or an `AppError` saying what the server said. */
export async function adminCall(
  server: RemoteServer,
  method: "GET" | "POST",
  path: string,
  body?: { json?: unknown; text?: string },
): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${server.token}` };
  if (body?.json !== undefined) headers["content-type"] = "application/json";
  // The registered media types of a PEM file and of a JWK (RFC 7517 §8.5).
  if (body?.text !== undefined) {
    headers["content-type"] = body.text.trimStart().startsWith("{") ? "application/jwk+json" : "application/x-pem-file";
  }
  let response: Response;
  try {
    response = await server.fetch(`${server.base}${path}`, {
      method,
      headers,
      // A redirect would carry the token elsewhere: never followed.
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
      ...(body?.json !== undefined ? { body: JSON.stringify(body.json) } : {}),
      ...(body?.text !== undefined ? { body: body.text } : {}),
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new AppError("unavailable", `Cannot reach the server at ${server.base} (${why})`);
  }
  if (response.ok) return await response.json();
  const message = await reason(response);
  if (response.status === 401) throw new AppError("unauthorized", `The server at ${server.base} refused ADMIN_TOKEN`);
  if (response.status === 404 && path === "/admin/keys") {
    throw new AppError("not_found", `No admin API at ${server.base}: is the server running with ADMIN_TOKEN set?`);
  }
  const code = response.status === 404 ? "not_found" : response.status === 409 ? "conflict" : "bad_request";
  throw new AppError(code, `The server answered ${response.status}: ${message}`);
}

/** `GET /admin/keys`. */
export async function remoteList(server: RemoteServer): Promise<{ keys: KeyInfo[] }> {
  return await adminCall(server, "GET", "/admin/keys") as { keys: KeyInfo[] };
}

/** `POST /admin/keys/rotate`. */
export async function remoteRotate(server: RemoteServer): Promise<KeyReport> {
  return await adminCall(server, "POST", "/admin/keys/rotate") as KeyReport;
}

/** `POST /admin/keys/revoke`. */
export async function remoteRevoke(server: RemoteServer, kid: string): Promise<KeyReport> {
  return await adminCall(server, "POST", "/admin/keys/revoke", { json: { kid } }) as KeyReport;
}

/** `POST /admin/keys/import`: the private key `text` (PEM or JWK), checked locally already. */
export async function remoteImport(
  server: RemoteServer,
  text: string,
  alg: string | undefined,
): Promise<KeyReport & { kid: string }> {
  const query = alg === undefined ? "" : `?alg=${encodeURIComponent(alg)}`;
  return await adminCall(server, "POST", `/admin/keys/import${query}`, { text }) as KeyReport & { kid: string };
}
