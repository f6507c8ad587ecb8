import assert from "node:assert/strict";
import { SIGNIN_CSS } from "../../lib/signin/style.ts";

Deno.test("the sign-in stylesheet loads nothing from elsewhere and has a dark scheme", () => {
  assert.doesNotMatch(SIGNIN_CSS, /url\(|@import/, "the CSP allows only same-origin styles and nothing else");
  assert.match(SIGNIN_CSS, /prefers-color-scheme: dark/);
  assert.match(SIGNIN_CSS, /max-width: 30rem/, "a phone-sized layout");
});
