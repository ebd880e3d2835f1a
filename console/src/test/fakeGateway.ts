import type { Role } from "../auth/claims";

/** An unsigned JWT-shaped token with the claims the console reads. */
export function fakeAccessToken(role: Role, email = `${role.toLowerCase()}@test.com`): string {
  const encode = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${encode({ alg: "EdDSA" })}.${encode({ sub: `id-${role}`, email, role })}.signature`;
}

export function tokenPair(role: Role, generation = 1) {
  const access = fakeAccessToken(role);
  return {
    token: access,
    accessToken: `${access}${generation}`,
    refreshToken: `refresh-${generation}`,
    tokenType: "Bearer",
    expiresIn: 900,
    refreshExpiresIn: 86400,
  };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function problem(status: number, detail: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ type: "about:blank", title: "", status, detail, requestId: "r" }), {
    status,
    headers: { "Content-Type": "application/problem+json", ...headers },
  });
}

export interface Seen {
  method: string;
  url: URL;
  authorization: string | null;
  ifMatch: string | null;
  idempotencyKey: string | null;
  body: unknown;
}

type Handler = (request: Seen) => Response | Promise<Response>;

/** A fetch function that answers like the gateway by `"METHOD /path"` and records every
 * request it saw; an unknown route is a 404 problem. */
export function fakeGateway(routes: Record<string, Handler>) {
  const seen: Seen[] = [];
  const fetchFunction = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = await request.text();
    const entry: Seen = {
      method: request.method,
      url,
      authorization: request.headers.get("Authorization"),
      ifMatch: request.headers.get("If-Match"),
      idempotencyKey: request.headers.get("Idempotency-Key"),
      body: text ? (JSON.parse(text) as unknown) : null,
    };
    seen.push(entry);
    const handler = routes[`${request.method} ${url.pathname}`];
    return handler ? handler(entry) : problem(404, `No route ${request.method} ${url.pathname}`);
  };
  return { fetch: fetchFunction, seen };
}
