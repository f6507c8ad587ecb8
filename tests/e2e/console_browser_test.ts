/**
 * The console in a real browser (Debian's chromium driven by playwright-core): the page shows
 * every published key in its state, follows a rotation made through the admin API without a
 * reload, gets a token in open mode and verifies it with WebCrypto, refuses tampered tokens,
 * verifies every algorithm the server signs with, works with JavaScript off, and reports no
 * console error or CSP violation. Screenshots go to `coverage/screenshots/`.
 * @module
 */
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from "jose";
import type { Alg } from "../../lib/core/key_material.ts";
import { privateKeyText } from "../../lib/keys/key_files.ts";
import { CONSOLE_CSP } from "../../lib/routes/console.ts";
import { browserTest, launchBrowser, screenshot, type WatchedPage } from "../support/browser.ts";
import { freshKey, testClock, withServedApp } from "../support/helpers.ts";

const ADMIN = "admin-token-for-the-browser-test-0123";
const bearer = { authorization: `Bearer ${ADMIN}` };

interface AdminKey {
  kid: string;
  status: string;
  published: boolean;
}

/** kid → state of every published key, as the admin API reports it. */
async function publishedStates(url: string): Promise<Map<string, string>> {
  const response = await fetch(`${url}/admin/keys`, { headers: bearer });
  assert.equal(response.status, 200);
  const { keys } = await response.json() as { keys: AdminKey[] };
  return new Map(keys.filter((key) => key.published).map((key) => [key.kid, key.status]));
}

/** The part of the DOM the page functions below read (this file is checked without the DOM types). */
interface PageGlobals {
  document: {
    querySelectorAll(selector: string): Iterable<{ dataset: Record<string, string | undefined> }>;
    documentElement: { scrollWidth: number };
  };
}

/** `kid:state` of every element matching `selector`, sorted, as JSON; runs in the page. */
function shownStates(selector: string): string {
  const { document } = globalThis as unknown as PageGlobals;
  return JSON.stringify(
    [...document.querySelectorAll(selector)].map((el) => `${el.dataset.kid}:${el.dataset.state}`).sort(),
  );
}

function entries(states: Map<string, string>): string {
  return JSON.stringify([...states].map(([kid, state]) => `${kid}:${state}`).sort());
}

/**
 * Waits until the page shows exactly `states`, in the key list and in the timeline. Page code
 * goes as functions, never strings: the page's CSP forbids eval, for tests too.
 */
async function waitForStates(page: WatchedPage, states: Map<string, string>): Promise<void> {
  await page.waitForFunction((want: string) => {
    const { document } = globalThis as unknown as PageGlobals;
    const shown = (selector: string) =>
      JSON.stringify(
        [...document.querySelectorAll(selector)].map((el) => `${el.dataset.kid}:${el.dataset.state}`).sort(),
      );
    return shown(".key-item") === want && shown("svg.timeline g.key") === want;
  }, entries(states));
}

async function decodeInPage(page: WatchedPage, token: string): Promise<{ result: string; text: string }> {
  await page.fill("#jwt", token);
  const verdict = page.locator('#jwt-verdict:not([data-result="pending"])');
  await verdict.waitFor();
  return { result: (await verdict.getAttribute("data-result")) ?? "", text: (await verdict.textContent()) ?? "" };
}

async function issueToken(url: string, query = ""): Promise<string> {
  const response = await fetch(`${url}/auth${query}`, { method: "POST" });
  assert.equal(response.status, 200);
  return (await response.json() as { token: string }).token;
}

browserTest("the console, in chromium, shows the live key timeline and verifies tokens in the page", async (t) => {
  // The server's clock starts at real time (tokens look fresh to the browser) and only moves
  // when the test moves it.
  const clock = testClock(Math.floor(Date.now() / 1000) * 1000);
  await withServedApp({}, async (url, app) => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();

      await t.step("the page is served with the strict CSP and framing denied", async () => {
        const response = await page.goto(`${url}/`);
        assert.ok(response !== null);
        assert.equal(response.status(), 200);
        const headers = response.headers();
        assert.equal(headers["content-security-policy"], CONSOLE_CSP);
        assert.equal(headers["x-frame-options"], "DENY");
        assert.equal(headers["x-content-type-options"], "nosniff");
        assert.equal(headers["referrer-policy"], "no-referrer");
        assert.equal(await page.title(), `jwks-server console · ${app.config.issuer}`);
      });

      await t.step("the timeline shows every published kid in its state", async () => {
        const states = await publishedStates(url);
        assert.deepEqual([...states.values()].sort(), ["active", "next"]);
        await waitForStates(page, states);
        await page.locator("#keys-live", { hasText: "Live:" }).waitFor();
      });

      let activeKid = "";
      await t.step("a rotation through the admin API shows up without a reload", async () => {
        const before = await publishedStates(url);
        activeKid = [...before].find(([, state]) => state === "active")![0];
        const nextKid = [...before].find(([, state]) => state === "next")![0];
        await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
        // Past the lead time, the next key may sign at once: rotating hands over now.
        clock.advance((app.config.policy.lead + 1) * 1000);
        const rotated = await fetch(`${url}/admin/keys/rotate`, { method: "POST", headers: bearer });
        assert.equal(rotated.status, 200);
        await rotated.body?.cancel();
        const after = await publishedStates(url);
        assert.equal(after.get(activeKid), "retired");
        assert.equal(after.get(nextKid), "active");
        assert.equal(after.size, 3);
        await waitForStates(page, after);
        assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true);
        activeKid = nextKid;
      });

      let token = "";
      await t.step('"get a token" issues a token that the page decodes and verifies', async () => {
        await page.fill("#username", "console-user");
        await page.click("#get-token button");
        await page.locator('#jwt-verdict[data-result="verified"]').waitFor();
        token = await page.inputValue("#jwt");
        assert.equal(decodeProtectedHeader(token).kid, activeKid);
        assert.match(
          (await page.textContent("#jwt-verdict"))!,
          new RegExp(`✓ Verified: signed by key ${activeKid} \\(active\\)`),
        );
        assert.equal(JSON.parse((await page.textContent("#jwt-claims"))!).sub, "console-user");
        assert.match((await page.textContent("#jwt-times"))!, /Expires .* \(in 1[45] min\)/);
        assert.match((await page.textContent("#jwt-times"))!, /Issuer is this server/);
      });

      await t.step("screenshots, desktop and phone-sized", async () => {
        const desktop = await screenshot(page, "console-desktop");
        const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
        await phone.goto(`${url}/`);
        await phone.locator("#keys-live", { hasText: "Live:" }).waitFor();
        await decodeInPage(phone, token);
        const small = await screenshot(phone, "console-phone");
        const keys = await screenshot(phone, "console-phone-keys", "#keys");
        const width = await phone.evaluate(() =>
          (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth
        );
        assert.ok(width <= 390, `the phone layout does not scroll sideways (${width} px wide)`);
        assert.deepEqual(phone.problems, []);
        await phone.context().close();
        for (const path of [desktop, small, keys]) assert.ok(Deno.statSync(path).size > 10_000, path);
      });

      await t.step("a tampered token is decoded but not verified", async () => {
        const [header, , signature] = token.split(".");
        const claims = { ...decodeJwt(token), sub: "mallory" };
        const payload = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
        const { result, text } = await decodeInPage(page, `${header}.${payload}.${signature}`);
        assert.equal(result, "not-verified");
        assert.equal(text, `✗ Not verified: the signature does not match key ${activeKid}`);
        assert.equal(JSON.parse((await page.textContent("#jwt-claims"))!).sub, "mallory");
      });

      await t.step("a token signed by an expired key is not verified: its kid left the JWKS", async () => {
        const expired = await issueToken(url, "?expired=true");
        const { result, text } = await decodeInPage(page, expired);
        assert.equal(result, "not-verified");
        assert.equal(text, `✗ Not verified: no key with kid ${decodeProtectedHeader(expired).kid} is in the JWKS now`);
        assert.match((await page.textContent("#jwt-times"))!, /Expired .* ago/);
      });

      await t.step("what is not a JWT says so", async () => {
        assert.deepEqual(await decodeInPage(page, "not-a-token"), {
          result: "malformed",
          text: "✗ Not a signed JWT: it has three parts separated by dots",
        });
        assert.equal(await page.isHidden("#jwt-decoded"), true);
      });

      for (const alg of ["PS256", "ES256", "EdDSA"] as const satisfies readonly Alg[]) {
        await t.step(`an imported ${alg} key is drawn as next and verifies its tokens in the page`, async () => {
          const material = await freshKey(alg);
          const imported = await fetch(`${url}/admin/keys/import?alg=${alg}`, {
            method: "POST",
            headers: bearer,
            body: privateKeyText(material, "jwk"),
          });
          assert.equal(imported.status, 201, await imported.text());
          await page.locator(`.key-item[data-kid="${material.kid}"][data-state="next"]`).waitFor();
          const key = await importJWK(JSON.parse(new TextDecoder().decode(material.privateBytes)), alg);
          const signed = await new SignJWT({ sub: `${alg}-user` })
            .setProtectedHeader({ alg, kid: material.kid, typ: "JWT" })
            .setIssuer(app.config.issuer)
            .setIssuedAt(app.keys.now())
            .setExpirationTime(app.keys.now() + 60)
            .sign(key);
          assert.deepEqual(await decodeInPage(page, signed), {
            result: "verified",
            text: `✓ Verified: signed by key ${material.kid} (next) of this server's JWKS`,
          });
        });
      }

      await t.step("with JavaScript off the page still shows the endpoints and every key", async () => {
        const plain = await browser.newPage({ javaScriptEnabled: false });
        await plain.goto(`${url}/`);
        const states = await publishedStates(url);
        assert.equal(await plain.evaluate(shownStates, ".key-item"), entries(states));
        assert.equal(await plain.locator("svg.timeline g.key").count(), states.size);
        assert.match((await plain.textContent("#endpoints"))!, /jwks_uri/);
        assert.match((await plain.textContent("#keys-live"))!, /Reload the page to update/);
        await plain.context().close();
      });

      await t.step("nothing went wrong in the page: no console error, no CSP violation", () => {
        assert.deepEqual(page.problems, []);
      });
    } finally {
      await browser.close();
    }
  }, { clock, env: { ADMIN_TOKEN: ADMIN }, app: { consolePollMs: 200 } });
});
