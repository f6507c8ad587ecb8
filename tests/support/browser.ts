/**
 * Browser tests: one launcher for Debian's chromium driven by playwright-core (headless, a
 * fresh profile per launch, no network chatter), a page watcher that collects console errors, page errors
 * and CSP violations, screenshots under `coverage/screenshots/`, and an in-process server that
 * mounts route lists on today's `handle()` (the adapter to swap when the route table changes).
 * @module
 */
import { existsSync } from "node:fs";
import fs from "node:fs";
import type { BrowserContextOptions, Page } from "playwright-core";
import { skipUnlessInstalled } from "./helpers.ts";

/** Where Debian installs chromium (`apt-get install -y chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a headless run on a closed network, as root. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why browser tests cannot run here, or null when chromium is installed. */
export function browserMissing(): string | null {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return null;
  } catch {
    // not installed
  }
  return skipUnlessInstalled(`${CHROMIUM} is not installed (apt-get install -y chromium); browser tests skipped`);
}

/**
 * Loads playwright-core on first use (tests that only mount routes never pay for it). At load
 * it probes `/proc` for WSL with `fs.existsSync`, which in Deno throws unless the process has
 * every permission (the test task grants a list); Node's `existsSync` never throws, so it is
 * made to answer false as Node would, rather than widening the test task's permissions.
 */
function loadPlaywright(): Promise<typeof import("playwright-core")> {
  if (fs.existsSync === existsSync) {
    fs.existsSync = ((path: Parameters<typeof existsSync>[0]) => {
      try {
        return existsSync(path);
      } catch {
        return false;
      }
    }) as typeof existsSync;
  }
  return import("playwright-core");
}

/** A tab whose problems (see {@linkcode watch}) are collected as they happen. */
export type WatchedPage = Page & { readonly problems: string[] };

/** A running browser. */
export interface Browser {
  /** A tab in a context of its own (viewport, JavaScript on or off...), watched. */
  newPage(options?: BrowserContextOptions): Promise<WatchedPage>;
  close(): Promise<void>;
}

/**
 * Launches chromium headless. Playwright gives every launch a fresh temporary profile
 * (`--user-data-dir`, removed on close) and refuses one in `args`, so none is passed here.
 */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await loadPlaywright();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
  return {
    async newPage(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return Object.assign(page, { problems: await watch(page) });
    },
    close: () => browser.close(),
  };
}

/**
 * Collects what a person would see as broken: console errors and warnings, uncaught page
 * errors, CSP violations (reported by the page itself, whether or not it logs them), failed
 * requests and error statuses.
 */
export async function watch(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.exposeFunction("__reportCspViolation", (text: string) => problems.push(`CSP violation: ${text}`));
  // A string, not a function: this file is type-checked without the DOM library.
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (event) => {
    __reportCspViolation(event.violatedDirective + " blocked " + (event.blockedURI || "inline code"));
  });`);
  return problems;
}

/**
 * Writes a screenshot of the whole page, or of the element matching `selector`, to
 * `coverage/screenshots/NAME.png` and returns the path.
 */
export async function screenshot(page: Page, name: string, selector?: string): Promise<string> {
  const dir = new URL("../../coverage/screenshots/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}${name}.png`;
  if (selector === undefined) await page.screenshot({ path, fullPage: true });
  else await page.locator(selector).screenshot({ path });
  return path;
}

/**
 * Registers a browser test: skipped (with the reason printed once) when chromium is missing,
 * and without Deno's op and resource sanitizers, since playwright-core keeps its pipe to the
 * browser open between steps.
 */
export function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, ignore: missingOnce() !== null, sanitizeOps: false, sanitizeResources: false }, fn);
}

let missing: string | null | undefined;
const missingOnce = () => missing === undefined ? (missing = browserMissing()) : missing;
