import { createApiClient, type ApiClient, type FetchFunction, type TokenPair } from "../api/client";
import { problemMessage, retryAfterSeconds, waitInWords } from "../api/problem";
import { userFromAccessToken, type SignedInUser } from "./claims";

export type SessionState =
  | { status: "resuming" }
  | { status: "signedOut"; notice: string | null }
  | { status: "signedIn"; user: SignedInUser };

export type SignInResult =
  | { ok: true }
  | { ok: false; message: string; retryAfterSeconds: number | null };

export const SESSION_ENDED_NOTICE =
  "Your session has ended (signed out elsewhere, or the account was changed). Please sign in again.";

interface Tokens {
  access: string;
}

// Asks auth to set the refresh token as the session cookie too (HttpOnly: no script of
// the page reads it; only /auth/session/* see it).
const SESSION_COOKIE = { "X-Refresh-Cookie": "1" } as const;

// Renew this long before the access token expires, so that requests never carry an
// expired one; at most at 80% of its lifetime when it is short.
const RENEW_AHEAD_SECONDS = 30;

/**
 * The signed-in session: the access token in memory only (never localStorage or
 * sessionStorage, which any script of the page could read); the refresh token is the
 * session cookie auth sets at sign-in, HttpOnly and seen only by `/auth/session/refresh`
 * and `/auth/session/logout`. The session is renewed before the access token expires and
 * when an answer is 401, and resumed after a reload from the cookie.
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
      answer = await this.anonymous.POST("/auth/login", {
        body: { email, password },
        params: { header: SESSION_COOKIE },
      });
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

  /** Ends the session here, and at auth its refresh token (the cookie, which auth also
   * clears; best effort: the session ends here whatever auth answers). */
  async signOut(): Promise<void> {
    this.end(null);
    try {
      await this.anonymous.POST("/auth/session/logout");
    } catch {
      // Nothing to do: the tokens are gone from this page, the access token expires.
    }
  }

  /** On start-up: the session of the cookie, if it has a live one; else signed out,
   * without a notice (a page opened signed out is no ended session). */
  async resume(): Promise<void> {
    this.publish({ status: "resuming" });
    let answer;
    try {
      answer = await this.anonymous.POST("/auth/session/refresh");
    } catch {
      answer = null;
    }
    if (answer?.data) {
      this.begin(answer.data);
    } else if (this.state.status === "resuming") {
      this.publish({ status: "signedOut", notice: null });
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
      answer = await this.anonymous.POST("/auth/session/refresh");
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
    this.tokens = { access: pair.accessToken };
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
