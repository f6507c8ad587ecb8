/**
 * Request parameters of the OAuth endpoints (RFC 6749 §3.2): form-encoded bodies only, each
 * parameter at most once (RFC 8707's `resource`, and `audience`, may repeat), bounded sizes, and
 * the syntax of `scope` (§3.3) and of audiences. Everything refused here is `invalid_request`,
 * `invalid_scope` or `invalid_target`; nothing here knows about clients or tokens.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { hasBody, mediaType, readBody, utf8Text } from "../http/body.ts";
import { OAuthError } from "./errors.ts";

/** The largest OAuth request body, in bytes (mock claims included). */
export const MAX_FORM_BYTES = 16 * 1024;
/** The most scope values one request may name, and the longest one. */
export const MAX_SCOPES = 32;
export const MAX_SCOPE_LENGTH = 128;
/** The most audiences a token may carry, and the longest one. */
export const MAX_AUDIENCES = 10;
export const MAX_AUDIENCE_LENGTH = 256;

const REPEATABLE = new Set(["resource", "audience", "aud"]);
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** A parsed form: single values by name, and the repeatable ones as lists. */
export interface OAuthForm {
  /** The value of `name`, or undefined when absent (an empty value counts as absent, as §3.1 says). */
  get(name: string): string | undefined;
  /** Every value of a repeatable parameter. */
  all(name: string): readonly string[];
  /** Every parameter name present. */
  readonly names: readonly string[];
}

/** Parses form-encoded `text`; refuses a repeated parameter that may appear only once. */
export function parseForm(text: string): OAuthForm {
  const params = new URLSearchParams(text);
  const single = new Map<string, string>();
  const many = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (REPEATABLE.has(name)) {
      if (value !== "") many.set(name, [...many.get(name) ?? [], value]);
      continue;
    }
    if (single.has(name) || (value !== "" && params.getAll(name).length > 1)) {
      throw new OAuthError("invalid_request", `Parameter "${name.slice(0, 40)}" must not be repeated`);
    }
    if (value !== "") single.set(name, value);
  }
  return {
    get: (name) => single.get(name),
    all: (name) => many.get(name) ?? [],
    names: Object.freeze([...new Set(params.keys())]),
  };
}

/**
 * Reads the body of an OAuth request: `application/x-www-form-urlencoded` only (a body of any
 * other type is `invalid_request`), at most {@linkcode MAX_FORM_BYTES}.
 */
export async function readForm(request: Request): Promise<OAuthForm> {
  const type = mediaType(request);
  if (hasBody(request) && type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded", {
      status: 415,
    });
  }
  let text: string;
  try {
    text = utf8Text(await readBody(request, MAX_FORM_BYTES));
  } catch (error) {
    if (error instanceof AppError && !(error instanceof OAuthError)) {
      throw new OAuthError("invalid_request", error.message, {
        status: error.code === "payload_too_large" ? 413 : 400,
      });
    }
    throw error;
  }
  return parseForm(text);
}

/** `name`, which must be present. */
export function required(form: OAuthForm, name: string): string {
  const value = form.get(name);
  if (value === undefined) throw new OAuthError("invalid_request", `Parameter "${name}" is required`);
  return value;
}

/** The scope values of `text` (space-separated, §3.3), deduplicated in order; undefined when absent. */
export function parseScope(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const values = [...new Set(text.split(" ").filter((value) => value !== ""))];
  if (values.length > MAX_SCOPES) throw new OAuthError("invalid_scope", `Ask for at most ${MAX_SCOPES} scopes`);
  for (const value of values) {
    if (value.length > MAX_SCOPE_LENGTH || !SCOPE_TOKEN.test(value)) {
      throw new OAuthError("invalid_scope", `Scope values are 1 to ${MAX_SCOPE_LENGTH} printable characters`);
    }
  }
  return values;
}

/** Checks one audience value (any string of printable characters, bounded). */
export function checkAudience(value: string, what = "audience"): string {
  if (value.length > MAX_AUDIENCE_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new OAuthError("invalid_target", `Each ${what} is 1 to ${MAX_AUDIENCE_LENGTH} printable characters`);
  }
  return value;
}

/**
 * The audiences a request names: RFC 8707 `resource` (absolute URIs without a fragment) and
 * `audience` values, deduplicated; empty when it names none.
 */
export function requestedAudiences(form: OAuthForm, extra: readonly string[] = []): string[] {
  for (const resource of form.all("resource")) {
    checkAudience(resource, "resource");
    if (!URL.canParse(resource) || resource.includes("#")) {
      throw new OAuthError("invalid_target", "Each resource must be an absolute URI without a fragment");
    }
  }
  const values = [...new Set([...form.all("resource"), ...form.all("audience"), ...extra])];
  for (const value of values) checkAudience(value);
  if (values.length > MAX_AUDIENCES) {
    throw new OAuthError("invalid_target", `Ask for at most ${MAX_AUDIENCES} audiences`);
  }
  return values;
}
