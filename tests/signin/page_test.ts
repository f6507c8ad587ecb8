import assert from "node:assert/strict";
import { errorPage, loginPage } from "../../lib/signin/page.ts";

const BASE = {
  issuer: "https://issuer.example",
  clientId: "c1",
  clientName: null,
  redirectOrigin: "https://app.example",
  scope: ["openid"],
  request: "sealed.tag",
  csrf: "csrf-token",
  css: "/authorize/signin.css?v=1",
};

Deno.test("the login page escapes what users and clients type and never has a script", async (t) => {
  await t.step("password mode: username and password, no claims box", () => {
    const html = loginPage({ ...BASE, authMode: "password", username: '"><script>alert(1)</script>' });
    assert.doesNotMatch(html, /<script/);
    assert.match(html, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    assert.match(html, /<input id="password" name="password" type="password"/);
    assert.doesNotMatch(html, /name="claims"/);
    assert.match(html, /action="\/authorize\/login"/);
  });
  await t.step("open mode: the claims box keeps its text, escaped", () => {
    const html = loginPage({ ...BASE, authMode: "open", claims: "</textarea><b>x</b>", error: "Bad <claims>" });
    assert.match(html, /&lt;\/textarea&gt;&lt;b&gt;x&lt;\/b&gt;<\/textarea>/);
    assert.match(html, /role="alert">Bad &lt;claims&gt;</);
  });
});

Deno.test("the error page says what is wrong, escaped", () => {
  const html = errorPage({ issuer: "i", message: "No <client>", css: "/x.css" });
  assert.match(html, /role="alert">No &lt;client&gt;</);
  assert.match(html, /<link rel="stylesheet" href="\/x.css">/);
});
