export const ROLES = ["ADMIN", "CLINICIAN", "ANALYST"] as const;
export type Role = (typeof ROLES)[number];

export interface SignedInUser {
  id: string;
  email: string;
  role: Role;
}

/** Who the access token is for, from its claims (`sub`, `email`, `role`). The console
 * does not verify the token (the gateway and services do): it only reads whom to show
 * which navigation. Null when the token is not a JWT with those claims. */
export function userFromAccessToken(token: string): SignedInUser | null {
  const payload = token.split(".")[1];
  if (payload === undefined) {
    return null;
  }
  let claims: unknown;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null) {
    return null;
  }
  const { sub, email, role } = claims as Record<string, unknown>;
  if (typeof sub !== "string" || typeof email !== "string" || !isRole(role)) {
    return null;
  }
  return { id: sub, email, role };
}

function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
