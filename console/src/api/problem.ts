import type { Problem } from "./client";

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { detail?: unknown }).detail === "string" &&
    typeof (value as { status?: unknown }).status === "number"
  );
}

/** What to tell a person about a failed answer: the problem's `detail` when the API gave
 * one, else a sentence about the status (a proxy's HTML page has nothing to show). */
export function problemMessage(error: unknown, response: Response | undefined): string {
  if (isProblem(error)) {
    return error.detail;
  }
  if (response === undefined) {
    return "The platform could not be reached. Check the connection and try again.";
  }
  return `The platform answered ${response.status} ${response.statusText}`.trimEnd() + ".";
}

/** Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date). */
export function retryAfterSeconds(response: Response, now: number = Date.now()): number | null {
  const value = response.headers.get("Retry-After")?.trim();
  if (!value) {
    return null;
  }
  if (/^\d+$/.test(value)) {
    return Number(value);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** "3 minutes", "1 second": a wait in words. */
export function waitInWords(seconds: number): string {
  if (seconds >= 120) {
    return `${Math.ceil(seconds / 60)} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}
