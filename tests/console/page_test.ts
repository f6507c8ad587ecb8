import assert from "node:assert/strict";
import { consolePage, keysView } from "../../lib/console/page.ts";
import { keySchedule } from "../../lib/console/schedule.ts";
import { NOW, pageOptions, renderedPage, threeKeySchedule } from "../support/console_page.ts";

Deno.test("keysView() lists every published key with its state, kid, algorithm and times, in signing order", () => {
  const schedule = threeKeySchedule();
  const markup = keysView(schedule, NOW).markup;
  assert.match(
    markup,
    new RegExp(`<div id="keys-view" data-etag="${schedule.etag.replaceAll('"', "&quot;")}" data-now="${NOW}">`),
  );
  const kids = [...markup.matchAll(/<li class="key-item state-[a-z]+" data-kid="([^"]+)" data-state="([a-z]+)"/g)].map((
    m,
  ) => `${m[1]}:${m[2]}`);
  assert.deepEqual(kids, ["old-kid:retired", "cur-kid:active", "new-kid:next"]);
  assert.match(markup, /signed until <time datetime="[^"]+">/, "a retired key says until when it signed");
  assert.equal((markup.match(/<span class="alg">ES256<\/span>/g) ?? []).length, 3);
  assert.ok(!markup.includes("No key is published right now."));
  assert.match(markup, /<svg[^>]*class="timeline"/);
});

Deno.test("keysView() says so when no key is published", () => {
  assert.ok(keysView(keySchedule([], [], NOW), NOW).markup.includes("No key is published right now."));
});

Deno.test("consolePage() renders the whole page on the server, without inline script or style", async (t) => {
  const page = renderedPage("open");
  await t.step("a complete document naming the issuer and its assets", () => {
    assert.ok(page.startsWith("<!doctype html>"));
    assert.match(page, /<title>jwks-server console · http:\/\/127\.0\.0\.1:8080<\/title>/);
    assert.match(page, /<link rel="stylesheet" href="\/console\/console\.css\?v=1">/);
    assert.match(page, /<script src="\/console\/console\.js\?v=1" defer><\/script>/);
    assert.ok(!/<script>|<style|style="/.test(page), "the CSP needs no inline script or style");
    assert.match(page, /data-poll-ms="2000"/);
  });
  await t.step("the endpoints in the order given, as links", () => {
    const names = [...page.matchAll(/<dt>([^<]+)<\/dt>\s*<dd><a href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(names, ["JWKS", "Token"]);
  });
  await t.step("open mode has the get-a-token form; password mode does not", () => {
    assert.match(page, /<form id="get-token" method="post" action="\/auth">/);
    assert.match(page, /open mode \(mock issuer\)/);
    const password = renderedPage("password");
    assert.ok(!password.includes('id="get-token"'));
    assert.match(password, /<span class="mode mode-password">password mode<\/span>/);
  });
  await t.step("the decoder is there in both modes, with a no-script hint", () => {
    for (const mode of ["open", "password"] as const) {
      const text = renderedPage(mode);
      assert.match(text, /<section id="decoder"[^>]*data-issuer="http:\/\/127\.0\.0\.1:8080">/);
      assert.match(text, /<noscript>.*jwks-server verify TOKEN --jwks URL/s);
    }
  });
  await t.step("what comes from outside is escaped", () => {
    const hostile = consolePage(pageOptions({
      issuer: 'http://x/"><script>alert(1)</script>',
      endpoints: [["<b>bold</b>", 'http://x/" onclick="alert(1)']],
    }));
    assert.ok(!hostile.includes("<script>alert(1)</script>"));
    assert.ok(!hostile.includes("<b>bold</b>"));
    assert.ok(!hostile.includes('" onclick="'));
    assert.ok(hostile.includes("&lt;script&gt;"));
  });
});
