import { createApiClient, type ApiClient, type FetchFunction, type TokenPair } from "../api/client";
import { problemMessage, retryAfterSeconds, waitInWords } from "../api/problem";
import { userFromAccessToken, type SignedInUser } from "./claims";

export type SessionState =
  | { status: "signedOut"; notice: string | null }
  | { status: "signedIn"; user: SignedInUser };

export type SignInResult =
  | { ok: true }
  | { ok: false; message: string; retryAfterSeconds: number | null };

export const SESSION_ENDED_NOTICE =
  "Your session has ended (signed out elsewhere, or the account was changed). Please sign in again.";

interface Tokens {
  access: string;
  refresh: string;
}

// Renew this long before the access token expires, so that requests never carry an
// expired one; at most at 80% of its lifetime when it is short.
const RENEW_AHEAD_SECONDS = 30;

/**
 * The signed-in session: the tokens, in memory only (never localStorage or
 * sessionStorage, which any script of the page could read), renewed with the refresh
 * token before the access token expires and when an answer is 401.
 *
 * The refresh token is in memory too for now, so a reload signs out. (Later: auth sets it
 * as an HttpOnly cookie only the refresh and logout endpoints see.)
 */
export class SessionStore {
  /** The typed client for every API call of the console: it sends the access token. */
  readonly api: ApiClient;
  private readonly anonymous: ApiClient;
  private state: SessionState = { status: "signedOut", notice: null };
  private tokens: Tokens | null = null;
  private renewal: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly send: FetchFunction = (request) => fetch(request),
    baseUrl?: string,
  ) {
    this.anonymous = createApiClient(send, baseUrl);
    this.api = createApiClient(this.authorizedFetch, baseUrl);
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): SessionState => this.state;

  async signIn(email: string, password: string): Promise<SignInResult> {
    let answer;
    try {
      answer = await this.anonymous.POST("/auth/login", { body: { email, password } });
    } catch {
      return { ok: false, message: problemMessage(undefined, undefined), retryAfterSeconds: null };
    }
    const { data, error, response } = answer;
    if (data) {
      this.begin(data);
      return { ok: true };
    }
    const wait = retryAfterSeconds(response);
    if (response.status === 429 || response.status === 423) {
      const message =
        response.status === 423 ? "This account is locked." : "Too many sign-in attempts.";
      const when = wait === null ? "later" : `in ${waitInWords(wait)}`;
      return { ok: false, message: `${message} Try again ${when}.`, retryAfterSeconds: wait };
    }
    return { ok: false, message: problemMessage(error, response), retryAfterSeconds: null };
  }

  /** Ends the session here and revokes its refresh token at auth (best effort: the
   * session ends here whatever auth answers). */
  async signOut(): Promise<void> {
    const tokens = this.tokens;
    this.end(null);
    if (tokens) {
      try {
        await this.anonymous.POST("/auth/logout", { body: { refreshToken: tokens.refresh } });
      } catch {
        // Nothing to do: the tokens are gone from this page, the access token expires.
      }
    }
  }

  /** A new token pair for the refresh token; one request at a time, however many
   * callers ask. False when there is no session any more, or auth was not reachable. */
  renew(): Promise<boolean> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<boolean> {
    const tokens = this.tokens;
    if (!tokens) {
      return false;
    }
    let answer;
    try {
      answer = await this.anonymous.POST("/auth/refresh", {
        body: { refreshToken: tokens.refresh },
      });
    } catch {
      return false; // Unreachable for now: the session stays, the next call tries again.
    }
    if (answer.data) {
      if (this.tokens === tokens) {
        this.begin(answer.data);
      }
      return true;
    }
    if (answer.response.status === 400 || answer.response.status === 401) {
      // Refused for good: reused, revoked by a logout elsewhere, or the user disabled.
      this.end(SESSION_ENDED_NOTICE);
    }
    return false;
  }

  private readonly authorizedFetch: FetchFunction = async (request) => {
    const tokens = this.tokens;
    if (!tokens) {
      return this.send(request);
    }
    const retry = request.clone();
    const response = await this.send(withBearer(request, tokens.access));
    if (response.status !== 401 || !(await this.renew()) || !this.tokens) {
      return response;
    }
    return this.send(withBearer(retry, this.tokens.access));
  };

  private begin(pair: TokenPair): void {
    const user = userFromAccessToken(pair.accessToken);
    if (!user) {
      this.end("The sign-in answer could not be read. Please try again.");
      return;
    }
    this.tokens = { access: pair.accessToken, refresh: pair.refreshToken };
    clearTimeout(this.renewal);
    const lifetime = Math.max(1, pair.expiresIn);
    const ahead = Math.min(RENEW_AHEAD_SECONDS, lifetime * 0.2);
    this.renewal = setTimeout(() => void this.renew(), (lifetime - ahead) * 1000);
    const current = this.state;
    if (current.status !== "signedIn" || !sameUser(current.user, user)) {
      this.publish({ status: "signedIn", user });
    }
  }

  private end(notice: string | null): void {
    this.tokens = null;
    clearTimeout(this.renewal);
    this.publish({ status: "signedOut", notice });
  }

  private publish(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) {
      listener();
    }
  }
}

function withBearer(request: Request, token: string): Request {
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return new Request(request, { headers });
}

function sameUser(a: SignedInUser, b: SignedInUser): boolean {
  return a.id === b.id && a.email === b.email && a.role === b.role;
}
