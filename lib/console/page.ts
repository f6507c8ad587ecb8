/**
 * The console's HTML: the page at `GET /` (issuer, endpoints, key timeline and list, the "get a
 * token" form in open mode, the JWT decoder) and the key view fragment the page script swaps
 * in when the key set changes. Everything is rendered on the server, so the page is useful
 * with JavaScript off; the script only refreshes the keys and runs the decoder. Pure.
 * @module
 */
import { html, type Markup, pageStart } from "./html.ts";
import type { KeySchedule, ScheduledKey } from "./schedule.ts";
import { isoTime, timelineSvg, utcTime } from "./timeline.ts";

/** What the page shows. */
export interface PageOptions {
  readonly issuer: string;
  readonly authMode: "open" | "password";
  /** Endpoint name → URL, in display order (from discovery). */
  readonly endpoints: readonly (readonly [string, string])[];
  readonly schedule: KeySchedule;
  /** Unix seconds now. */
  readonly now: number;
  /** Same-origin URLs of the stylesheet and the script. */
  readonly assets: { readonly css: string; readonly js: string };
  /** How often the script polls for key changes, in milliseconds. */
  readonly pollMs: number;
}

function time(seconds: number): Markup {
  return html`<time datetime="${isoTime(seconds)}">${utcTime(seconds)}</time>`;
}

const STATE_TEXT = {
  next: "next: published, signs later",
  active: "active: signs new tokens",
  retired: "retired: verifies tokens it signed",
} as const;

function keyItem(key: ScheduledKey): Markup {
  const signs = key.state === "retired"
    ? html`signed until ${time(key.retiresAt)}`
    : html`from ${time(key.activatesAt)} until ${time(key.retiresAt)}`;
  return html`
    <li class="key-item state-${key.state}" data-kid="${key.kid}" data-state="${key.state}">
      <p class="key-head">
        <span class="badge state-${key.state}">${key.state}</span>
        <code class="kid">${key.kid}</code>
        <span class="alg">${key.alg}</span>
      </p>
      <dl class="key-times">
        <dt>Published</dt>
        <dd>${time(key.publishedAt)}</dd>
        <dt>Signs</dt>
        <dd>${signs}</dd>
        <dt>Leaves the JWKS</dt>
        <dd>${time(key.exp)}</dd>
      </dl>
    </li>
  `;
}

/** The key timeline and list, as one element the page script can replace. */
export function keysView(schedule: KeySchedule, now: number): Markup {
  const legend = (["next", "active", "retired"] as const).map((state) =>
    html`<li><span class="swatch state-${state}"></span>${STATE_TEXT[state]}</li>`
  );
  const empty = schedule.keys.length === 0 ? html`<p class="empty">No key is published right now.</p>` : null;
  return html`
    <div id="keys-view" data-etag="${schedule.etag}" data-now="${now}">
      <div class="timeline-box">${timelineSvg(schedule, now)}</div>
      <ul class="legend">${legend}</ul>
      ${empty}
      <ul class="key-list">${schedule.keys.map(keyItem)}</ul>
    </div>
  `;
}

function endpointList(endpoints: PageOptions["endpoints"]): Markup {
  const rows = endpoints.map(([name, url]) =>
    html`
      <dt>${name}</dt>
      <dd><a href="${url}"><code>${url}</code></a></dd>
    `
  );
  return html`<dl class="endpoints">${rows}</dl>`;
}

function tokenSection(): Markup {
  return html`
    <section id="token" aria-labelledby="token-title">
      <h2 id="token-title">Get a token</h2>
      <p>Open mode (mock issuer): any username gets a token signed by the active key; a registered username still needs its password, so use another name.</p>
      <form id="get-token" method="post" action="/auth">
        <label for="username">Username</label>
        <div class="row">
          <input id="username" name="username" autocomplete="off" spellcheck="false" placeholder="anonymous">
          <button type="submit">Get a token</button>
        </div>
        <p id="token-status" role="status"></p>
      </form>
    </section>
  `;
}

function decoderSection(issuer: string): Markup {
  return html`
    <section id="decoder" aria-labelledby="decoder-title" data-issuer="${issuer}">
      <h2 id="decoder-title">Decode a token</h2>
      <p>Paste a JWT to see its header and claims and whether it verifies against this server's JWKS right now. Decoding and verification run in your browser: the token never leaves this page.</p>
      <label for="jwt">JWT</label>
      <textarea id="jwt" rows="5" spellcheck="false" autocomplete="off" autocapitalize="off" placeholder="eyJ…"></textarea>
      <p id="jwt-verdict" role="status"></p>
      <div id="jwt-decoded" class="decoded" hidden>
        <h3>Header</h3>
        <pre id="jwt-header"></pre>
        <h3>Claims</h3>
        <pre id="jwt-claims"></pre>
        <ul id="jwt-times"></ul>
      </div>
      <noscript><p class="note">The decoder needs JavaScript. From a shell, <code>jwks-server verify TOKEN --jwks URL</code> does the same.</p></noscript>
    </section>
  `;
}

/** The whole console page. */
export function consolePage(options: PageOptions): string {
  const { issuer, authMode, schedule, now, assets } = options;
  const mode = authMode === "open" ? "open mode (mock issuer)" : "password mode";
  return html`
    ${pageStart(`jwks-server console · ${issuer}`, assets.css, html`<script src="${assets.js}" defer></script>`)}
      <body>
      <header class="top">
        <h1>jwks-server</h1>
        <p class="issuer"><span class="mode mode-${authMode}">${mode}</span> <code>${issuer}</code></p>
      </header>
      <main>
          <section id="endpoints" aria-labelledby="endpoints-title">
            <h2 id="endpoints-title">Endpoints</h2>
            ${endpointList(options.endpoints)}
          </section>
          <section id="keys" aria-labelledby="keys-title" data-poll-ms="${options.pollMs}">
            <h2 id="keys-title">Published keys</h2>
            <p class="note" id="keys-live">Shown as of ${time(now)}. Reload the page to update.</p>
            ${keysView(schedule, now)}
          </section>
          ${authMode === "open" ? tokenSection() : null}
          ${decoderSection(issuer)}
        </main>
      <footer>
        <p>Keys rotate on their own: a next key is published before it signs, and a retired key stays in the JWKS until the tokens it signed have expired. This page only reads.</p>
      </footer>
    </body>
    </html>
  `.markup.trimStart();
}
