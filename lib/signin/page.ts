/**
 * The sign-in pages of `GET /authorize`, rendered on the server: the login form (username and
 * password; in open mode a claims box too), carrying the sealed authorization request and the
 * CSRF token as hidden fields, and the error page shown when a request cannot be redirected.
 * Plain HTML and one stylesheet: no script, so it works with JavaScript off. Pure.
 * @module
 */
import { html, type Markup, pageStart, trusted } from "../console/html.ts";

/** What the login page shows. */
export interface LoginPageOptions {
  readonly issuer: string;
  readonly authMode: "open" | "password";
  readonly clientId: string;
  /** The client's registered name, or null for an ad-hoc client of open mode. */
  readonly clientName: string | null;
  /** Where the user goes back to (the redirect URI's origin). */
  readonly redirectOrigin: string;
  readonly scope: readonly string[];
  /** The sealed authorization request and its CSRF token (hidden fields). */
  readonly request: string;
  readonly csrf: string;
  /** Same-origin URL of the stylesheet. */
  readonly css: string;
  /** What the user typed last time (never the password). */
  readonly username?: string;
  readonly claims?: string;
  /** Why the last attempt failed, shown above the form. */
  readonly error?: string | null;
}

/** The page frame: head, title, stylesheet, one main column. */
function frame(title: string, css: string, body: Markup): string {
  return html`
    ${pageStart(title, css)}
      <body>
      <main class="card">${body}</main>
    </body>
    </html>
  `.markup;
}

/** The login page. */
export function loginPage(options: LoginPageOptions): string {
  const open = options.authMode === "open";
  const who = options.clientName === null
    ? html`<code>${options.clientId}</code>`
    : html`<strong>${options.clientName}</strong>`;
  const scope = options.scope.length > 0
    ? html`<p class="scope">It asks for: ${
      options.scope.map((value) =>
        html`
          <code>${value}</code>
        `
      )
    }</p>`
    : null;
  const error = options.error ? html`<p class="error" id="signin-error" role="alert">${options.error}</p>` : null;
  const hint = open
    ? html`<p class="note">Open mode (mock issuer): any username signs in. A registered user still needs their password.</p>`
    : null;
  const claims = open
    ? html`
      <label for="claims">Extra claims <span class="muted">(optional JSON object)</span></label>
      <textarea id="claims" name="claims" rows="5" spellcheck="false" autocomplete="off"
        placeholder='{"email": "dev@example.com", "roles": ["admin"]}'>${options.claims ?? ""}</textarea>
      <p
        class="muted small">Added to the ID token and the access token. <code>iss</code>, <code>sub</code>, <code>aud</code>, <code>exp</code>, <code>iat</code>, <code>nbf</code>, <code>jti</code> and the other claims the server sets are refused.</p>
    `
    : null;
  const body = html`
    <h1>Sign in</h1>
    <p>${who} wants you to sign in to <code>${options.issuer}</code>; you will be sent back to <code>${options
      .redirectOrigin}</code>.</p>
    ${scope}
    ${hint}
    ${error}
    <form method="post" action="/authorize/login" id="signin">
      <input type="hidden" name="request" value="${options.request}">
      <input type="hidden" name="csrf" value="${options.csrf}">
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false" value="${options
        .username ?? ""}" ${open ? "" : trusted("required")} autofocus>
      <label for="password">Password${open
        ? html`
          <span class="muted">(registered users)</span>
        `
        : ""}</label>
      <input id="password" name="password" type="password" autocomplete="current-password" ${open
        ? ""
        : trusted("required")}>
      ${claims}
      <div class="actions">
        <button type="submit" name="action" value="signin">Sign in</button>
        <button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
      </div>
    </form>
  `;
  return frame(`Sign in · ${options.issuer}`, options.css, body);
}

/** The page shown when a request cannot go back to its client: it says what is wrong. */
export function errorPage(
  options: { readonly issuer: string; readonly message: string; readonly css: string },
): string {
  const body = html`
    <h1>Sign-in request refused</h1>
    <p class="error" id="signin-error" role="alert">${options.message}</p>
    <p>The application that sent you here made a request this server cannot answer safely, so you were not sent back to it. If you run that application, check its <code>client_id</code> and <code>redirect_uri</code> against <code>jwks-server clients list</code>.</p>
  `;
  return frame(`Sign-in error · ${options.issuer}`, options.css, body);
}
