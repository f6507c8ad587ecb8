/**
 * The README's worked example, as a person runs it: `main.ts serve --auth open`, the example web
 * app `docs/examples/oidc_rp.ts` (openid-client: code + PKCE, nonce, userinfo) pointed at it, and
 * Debian's chromium signing in through the login page with a custom claim. Also takes the
 * console screenshot the README shows (`coverage/screenshots/readme-console.png`; copied to
 * `docs/console.png` by hand when the page changes).
 * @module
 */
import assert from "node:assert/strict";
import { browserTest, launchBrowser, screenshot } from "../support/browser.ts";
import { freePort, startListening, startServer } from "../support/server_process.ts";

const EXAMPLE = new URL("../../docs/examples/oidc_rp.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Starts the example app against `issuer` on a free port (its redirect URI names the port). */
async function startExample(issuer: string) {
  const port = freePort();
  const app = await startListening(Deno.execPath(), [
    "run",
    "--config",
    CONFIG,
    "--allow-net",
    EXAMPLE,
    "--port",
    String(port),
    "--issuer",
    issuer,
  ]);
  assert.equal(app.url, `http://127.0.0.1:${port}`);
  return app;
}

browserTest("the README's example app signs in through the login page with openid-client, in chromium", async () => {
  const dir = await Deno.makeTempDir({ prefix: "oidc-example-" });
  const server = await startServer({ cwd: dir, args: ["--auth", "open"] });
  const app = await startExample(server.url);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    assert.ok(page.url().startsWith(`${server.url}/authorize?`), page.url());
    await page.fill("#username", "ada");
    await page.fill("#claims", '{"tenant": "t1"}');
    await Promise.all([page.waitForURL(`${app.url}/callback?**`), page.click('button[value="signin"]')]);
    assert.equal(await page.textContent("h1"), "Signed in as ada", await page.content());
    const claims = JSON.parse((await page.textContent("#claims"))!);
    assert.deepEqual([claims.iss, claims.sub, claims.aud, claims.tenant], [server.url, "ada", "example-app", "t1"]);
    assert.equal(typeof claims.nonce, "string", "openid-client checked the nonce it sent");
    assert.equal(JSON.parse((await page.textContent("#userinfo"))!).sub, "ada");
    assert.deepEqual(page.problems, []);

    const console = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await console.goto(`${server.url}/`);
    await console.waitForSelector("svg");
    assert.ok(Deno.statSync(await screenshot(console, "readme-console")).size > 10_000);
  } finally {
    await browser.close();
    await app.stop();
    assert.equal(await server.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
