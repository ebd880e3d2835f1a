/** The currencies the console offers for a new invoice (the API takes any ISO 4217 code). */
export const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "SEK"] as const;
export type OfferedCurrency = (typeof CURRENCIES)[number];

function digitsOf(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
}

/** An amount in minor units (cents) in the currency's own format: 12500 EUR -> €125.00. */
export function formatMoney(amountMinor: number, currency: string, locale?: string): string {
  const digits = digitsOf(currency);
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(
    amountMinor / 10 ** digits,
  );
}

/** "125.50" EUR -> 12550; null when it is not a positive amount with at most the
 * currency's decimals (JPY has none). */
export function toMinorUnits(text: string, currency: string): number | null {
  const digits = digitsOf(currency);
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!match) {
    return null;
  }
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > digits) {
    return null;
  }
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  return minor > 0 && Number.isSafeInteger(minor) ? minor : null;
}
