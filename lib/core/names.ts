/**
 * How names compare: usernames and email addresses are one account whatever their case or
 * Unicode form (`Alice`, `ALICE` and the full-width `ａｌｉｃｅ` are the same user), so every
 * lookup and uniqueness check goes through {@linkcode canonicalName}. Also what a free-form
 * subject (the mock issuer's `sub`) may contain. Pure.
 * @module
 */

/** Characters a subject may not contain: controls, format characters (bidi overrides, zero-width), surrogates, private use, unassigned. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/u;

/** Longest free-form subject, in characters. */
export const MAX_SUBJECT = 255;

/** `text` in Unicode NFKC, the form names are stored and validated in. */
export function normalizedName(text: string): string {
  return text.normalize("NFKC");
}

/**
 * The comparison key of a username or email: NFKC, lower case, NFKC again (lower-casing can
 * undo the normalization). Two names are the same account exactly when their keys are equal.
 */
export function canonicalName(text: string): string {
  return text.normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** Why `text` cannot be a subject, or null when it can: 1 to 255 printable characters. */
export function subjectProblem(text: string): string | null {
  if (text.length === 0) return "must not be empty";
  if (text.length > MAX_SUBJECT) return `must be at most ${MAX_SUBJECT} characters`;
  if (UNPRINTABLE.test(text)) {
    return "must be printable: no control, format (bidi, zero-width) or unassigned characters";
  }
  return null;
}
