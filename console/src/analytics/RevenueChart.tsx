import { Bar, Legend } from "recharts";
import type { components } from "../api/generated/analytics";
import { formatMoney } from "../billing/money";
import { BarChartFigure } from "./BarChartFigure";
import { perPeriod, periodLabel, type Granularity } from "./reportRange";

type CurrencyRevenue = components["schemas"]["CurrencyRevenue"];

interface Props {
  revenue: CurrencyRevenue;
  granularity: Granularity;
}

/** One currency's invoices issued and paid per period, as bars in its own format; its
 * figures (voided ones too) are its text alternative. */
export function RevenueChart({ revenue, granularity }: Props) {
  const { currency } = revenue;
  const money = (minor: number) => formatMoney(minor, currency);
  const rows = revenue.buckets.map((bucket) => ({ ...bucket, period: periodLabel(bucket.start, granularity) }));
  const title = `Revenue in ${currency} ${perPeriod(granularity)}`;
  const summary =
    `${title}: ${money(revenue.issuedMinor)} issued (${invoices(revenue.issuedCount)}), ` +
    `${money(revenue.paidMinor)} paid (${revenue.paidCount}), ` +
    `${money(revenue.voidedMinor)} voided (${revenue.voidedCount}).`;
  return (
    <BarChartFigure
      summary={summary}
      data={rows}
      formatValue={money}
      yAxisWidth={88}
      table={{
        caption: title,
        columns: ["Period", "Issued", "Paid", "Voided"],
        rows: rows.map((row) => [
          row.period,
          `${money(row.issuedMinor)} (${row.issuedCount})`,
          `${money(row.paidMinor)} (${row.paidCount})`,
          `${money(row.voidedMinor)} (${row.voidedCount})`,
        ]),
      }}
    >
      <Legend />
      <Bar dataKey="issuedMinor" name="Issued" fill="#8c959f" isAnimationActive={false} />
      <Bar dataKey="paidMinor" name="Paid" fill="#1a7f37" isAnimationActive={false} />
    </BarChartFigure>
  );
}

function invoices(count: number): string {
  return count === 1 ? "1 invoice" : `${count} invoices`;
}
