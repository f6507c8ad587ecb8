/**
 * What a grant module is: the request it sees (the parsed form, the authenticated client, open
 * mode's mock controls) and the server's deps it may use; a grant decides who the tokens are for
 * and with what scope, then calls `issueTokens()`. The modules are listed in `grants.ts`.
 * @module
 */
import type { LoginEvent } from "../store/ports.ts";
import type { LoginPolicy } from "../users/login.ts";
import type { AuthenticatedClient } from "./client_auth.ts";
import type { GrantType } from "./grant_types.ts";
import type { IssueDeps, TokenResponse } from "./issue.ts";
import type { MockControls } from "./mock.ts";
import type { OAuthForm } from "./params.ts";

/** One token request, as a grant sees it. */
export interface GrantRequest {
  readonly form: OAuthForm;
  readonly client: AuthenticatedClient;
  /** Open mode's controls; null in password mode. */
  readonly mock: MockControls | null;
  /** `?expired=true`. */
  readonly expired: boolean;
  /** The client IP, for `auth_logs`. */
  readonly ip: string;
}

/** What the grants need from the server. */
export interface GrantDeps extends IssueDeps {
  /** Who may log in (the password grant). */
  readonly login: LoginPolicy;
  /** `auth_logs`, as `/auth` writes it; `healthy` false refuses logins (503). */
  readonly loginLog: { record(event: LoginEvent): void; readonly healthy?: boolean } | null;
  /** The configured `aud` (`--audience`), or null. */
  readonly audience: string | null;
  /** Unix milliseconds now. */
  readonly clock: () => number;
}

/** A grant type's module. */
export interface Grant {
  readonly type: GrantType;
  run(request: GrantRequest, deps: GrantDeps): Promise<TokenResponse>;
}
