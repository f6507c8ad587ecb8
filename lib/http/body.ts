/**
 * Request bodies and credentials: a bounded body reader (64 KiB by default, whether or not a
 * `Content-Length` announced the size, and within the time the listener allows), JSON and form
 * fields as one flat record, and username/password from the body or `Authorization: Basic`.
 * Bearer headers are never read here: public endpoints ignore them.
 * @module
 */
import { AppError } from "../core/errors.ts";

/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";
const utf8 = new TextDecoder("utf-8", { fatal: true });

// The answers that refuse a body end the connection: the rest of the body is never read.
const CLOSE = Object.freeze({ connection: "close" });
const tooLarge = (limit: number) =>
  new AppError("payload_too_large", `Request body must be at most ${limit} bytes`, { headers: CLOSE });

/** The time limit the listener set on one request's body. */
interface BodyTime {
  readonly signal: AbortSignal;
  readonly ms: number;
}

/** The time limits the listener set on request bodies, by request. */
const bodyTimes = new WeakMap<Request, BodyTime>();

/**
 * Bounds how long the body of `request` may take to arrive: once `signal` aborts, reading it
 * fails with `request_timeout` (408, connection closed). The listener calls this for every
 * request that may carry a body, so every route's reads are bounded without knowing it.
 */
export function limitBodyTime(request: Request, signal: AbortSignal, ms: number): void {
  bodyTimes.set(request, { signal, ms });
}

/** A body that broke off (or delivered fewer bytes than announced): the client's fault, not ours. */
const cutShort = () => new AppError("bad_request", "Request body ended before it was complete");

function timedOut(ms: number): AppError {
  return new AppError("request_timeout", `Request body did not arrive within ${Math.ceil(ms / 1000)} s`, {
    headers: CLOSE,
  });
}

/**
 * A body of announced length in one `request.bytes()`, raced against the listener's deadline.
 * `request.body` is never touched on this path: the runtime then hands over a small body that
 * is already in whole, where the stream reader would wrap it in a `ReadableStream` first
 * (measured: ~3 µs of a ~55 µs `/auth`, see docs/performance.md, run 7). The HTTP parser frames
 * the body by that length (a request that also says `Transfer-Encoding` is its 400), so no more
 * than the limit checked before arrives. At the deadline it fails with `request_timeout`; the
 * read left pending ends when the listener closes the connection, and its outcome is ignored.
 */
function readAnnounced(request: Request, expected: number, time: BodyTime | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(timedOut(time!.ms));
    time?.signal.addEventListener("abort", onAbort, { once: true });
    request.bytes().then((bytes) => {
      // The framing delivers exactly the announced bytes; anything else is a body cut short.
      if (bytes.byteLength === expected) resolve(bytes);
      else reject(cutShort());
    }, () => reject(cutShort())).finally(() => time?.signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Reads the body up to `limit` bytes; throws `payload_too_large` beyond it, `request_timeout`
 * when it does not arrive in the time the listener allows, and `bad_request` when it breaks off.
 * Reading stops once the bytes a `Content-Length` announced are in.
 */
export async function readBody(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  const expected = declared === null ? null : Number(declared);
  if (expected !== null && expected > limit) throw tooLarge(limit);
  if (expected === 0) return new Uint8Array(0);
  const time = bodyTimes.get(request);
  if (time?.signal.aborted) throw timedOut(time.ms);
  if (expected !== null && Number.isSafeInteger(expected) && expected > 0) {
    return await readAnnounced(request, expected, time);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  // One listener for the whole body: at the deadline the reader is cancelled, which ends a
  // pending read as if the body were done, and the loop then says why.
  const onAbort = () => void reader.cancel().catch(() => {});
  time?.signal.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size !== expected) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        if (time?.signal.aborted) throw timedOut(time.ms);
        throw cutShort();
      }
      if (time?.signal.aborted) throw timedOut(time.ms);
      const { done, value } = chunk;
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    time?.signal.removeEventListener("abort", onAbort);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Decodes `bytes` as UTF-8; throws `bad_request` when they are not. */
export function utf8Text(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError("bad_request", "Request body is not valid UTF-8");
  }
}

/** Reads the body as UTF-8 text, bounded like {@linkcode readBody}. */
export async function readText(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  return utf8Text(await readBody(request, limit));
}

/**
 * Whether `request` carries a body: by its `Content-Length` when it has one, so that
 * `request.body`, which would give up the runtime's whole-body hand-over (see `readBody`), is
 * left alone; by `request.body` for a chunked one.
 */
export function hasBody(request: Request): boolean {
  const declared = request.headers.get("content-length");
  return declared === null ? request.body !== null : declared !== "0";
}

/** The media type of a request body, lower case, without parameters ("" when none was sent). */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Parses a JSON or form body into a flat record of fields. Only `application/json` (or
 * `…+json`) and `application/x-www-form-urlencoded` are bodies; anything else, `text/plain`
 * included (the type a cross-site page may send without a preflight), is 415 before the body is
 * read. A form-typed or untyped body that starts with `{` is read as JSON (what `curl -d '{…}'`
 * sends). No body at all is an empty record, whatever the type says.
 */
export async function readFields(request: Request): Promise<Record<string, unknown>> {
  const type = mediaType(request);
  const known = type === "" || type === JSON_TYPE || type.endsWith("+json") || type === FORM_TYPE;
  if (!known && hasBody(request)) throw unsupported();
  const bytes = await readBody(request);
  if (bytes.byteLength === 0) return {};
  if (!known) throw unsupported();
  const text = utf8Text(bytes);
  const looksJson = text.trimStart().startsWith("{");
  if (type === JSON_TYPE || type.endsWith("+json") || looksJson) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AppError("invalid_json", "Request body is not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new AppError("invalid_json", "Request body must be a JSON object");
    }
    return parsed as Record<string, unknown>;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function unsupported(): AppError {
  return new AppError(
    "unsupported_media_type",
    "Send the body as application/json or application/x-www-form-urlencoded",
  );
}

/** The string field `name`, or undefined when absent or null; `invalid_field` for another type. */
export function optionalString(fields: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new AppError("invalid_field", `Field "${name}" must be a string`, { field: name });
  }
  return value;
}

/** The `user:password` of an `Authorization: Basic` header, or null when there is none. */
export function basicCredentials(request: Request): { username: string; password: string } | null {
  const header = request.headers.get("authorization") ?? "";
  if (!/^basic\s+/i.test(header)) return null;
  let decoded: string;
  try {
    decoded = utf8.decode(Uint8Array.from(atob(header.replace(/^basic\s+/i, "").trim()), (c) => c.charCodeAt(0)));
  } catch {
    throw new AppError("bad_request", "Authorization: Basic header is not valid base64 UTF-8");
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Credentials from the body fields, or else from `Authorization: Basic`. */
export function credentialsOf(
  request: Request,
  fields: Readonly<Record<string, unknown>>,
): { username?: string; password?: string } {
  const username = optionalString(fields, "username");
  const password = optionalString(fields, "password");
  if (username !== undefined) return password === undefined ? { username } : { username, password };
  const basic = basicCredentials(request);
  if (basic !== null) return basic;
  return password === undefined ? {} : { password };
}
