import assert from "node:assert/strict";
import { escapeHtml, html, pageStart, trusted } from "../../lib/console/html.ts";

Deno.test("html escapes every interpolated value, in text and in attributes", () => {
  const evil = `"><script>alert('x')</script>&`;
  const out = html`<p title="${evil}">${evil}</p>`.markup;
  assert.equal(
    out,
    '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">' +
      "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>",
  );
  assert.ok(!out.includes("<script>"));
});

Deno.test("html nests markup it made, joins arrays and leaves out null, undefined and false", () => {
  const items = ["a", "<b>"].map((item) => html`<li>${item}</li>`);
  assert.equal(html`<ul>${items}</ul>`.markup, "<ul><li>a</li><li>&lt;b&gt;</li></ul>");
  assert.equal(html`[${null}${undefined}${false}${0}]`.markup, "[0]");
  assert.equal(String(html`<i>${"x"}</i>`), "<i>x</i>");
});

Deno.test("only html and trusted make markup: a look-alike object is escaped as text", () => {
  assert.equal(html`${trusted("<!doctype html>")}`.markup, "<!doctype html>");
  assert.equal(html`${{ toString: () => "<b>" }}`.markup, "&lt;b&gt;");
  assert.equal(html`${{ markup: "<b>", toString: () => "<b>" }}`.markup, "&lt;b&gt;");
  assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
});

Deno.test("pageStart() opens a page: doctype, viewport, no referrer, the escaped title, the stylesheet, extras", () => {
  const start = pageStart('a <b> "c"', "/x.css", html`<script src="/x.js" defer></script>`).markup;
  assert.match(start, /^\s*<!doctype html>/);
  assert.match(start, /<title>a &lt;b&gt; &quot;c&quot;<\/title>/);
  assert.match(start, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(start, /<meta name="referrer" content="no-referrer">/);
  assert.match(start, /<link rel="stylesheet" href="\/x.css">\s*<script src="\/x.js" defer><\/script>\s*<\/head>\s*$/);
  assert.doesNotMatch(pageStart("t", "/y.css").markup, /<script/);
});
