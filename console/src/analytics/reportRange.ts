import type { components } from "../api/generated/analytics";

export type Granularity = components["schemas"]["Granularity"];
export type RegistrationBasis = components["schemas"]["RegistrationBasis"];

/** The days a report covers (`YYYY-MM-DD`, UTC days, both included) and their grouping:
 * the `from`, `to` and `granularity` the analytics API takes. */
export interface ReportRange {
  from: string;
  to: string;
  granularity: Granularity;
}

export const GRANULARITIES: readonly { value: Granularity; label: string }[] = [
  { value: "day", label: "Day" },
  { value: "week", label: "Week (Monday to Sunday)" },
  { value: "month", label: "Month" },
];

const DAY_MS = 24 * 60 * 60 * 1000;

/** `date`'s UTC day as `YYYY-MM-DD`. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last 30 days (today included), by day: what the API reports when asked nothing. */
export function defaultRange(now: Date = new Date()): ReportRange {
  return { from: isoDay(new Date(now.getTime() - 29 * DAY_MS)), to: isoDay(now), granularity: "day" };
}

/** A period as a person reads it: "2 Dec 2026", "week of 30 Nov 2026", "Dec 2026". */
export function periodLabel(start: string, granularity: Granularity, locale?: string): string {
  const date = new Date(`${start}T00:00:00Z`);
  if (granularity === "month") {
    return new Intl.DateTimeFormat(locale, { month: "short", year: "numeric", timeZone: "UTC" }).format(date);
  }
  const day = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(date);
  return granularity === "week" ? `week of ${day}` : day;
}

/** "per day", "per week", "per month". */
export function perPeriod(granularity: Granularity): string {
  return `per ${granularity}`;
}
