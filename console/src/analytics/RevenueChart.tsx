import { useId } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { components } from "../api/generated/analytics";
import { formatMoney } from "../billing/money";
import { FiguresTable } from "./FiguresTable";
import { CHART_HEIGHT, INITIAL_CHART_SIZE } from "./RegistrationsChart";
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
  const captionId = useId();
  return (
    <figure className="chart">
      <div role="img" aria-labelledby={captionId}>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT} initialDimension={INITIAL_CHART_SIZE}>
          <BarChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 16 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="period" />
            <YAxis tickFormatter={money} width={80} />
            <Tooltip formatter={(value) => (typeof value === "number" ? money(value) : String(value))} />
            <Legend />
            <Bar dataKey="issuedMinor" name="Issued" fill="#8c959f" isAnimationActive={false} />
            <Bar dataKey="paidMinor" name="Paid" fill="#1a7f37" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption id={captionId}>{summary}</figcaption>
      <FiguresTable
        caption={title}
        columns={["Period", "Issued", "Paid", "Voided"]}
        rows={rows.map((row) => [
          row.period,
          `${money(row.issuedMinor)} (${row.issuedCount})`,
          `${money(row.paidMinor)} (${row.paidCount})`,
          `${money(row.voidedMinor)} (${row.voidedCount})`,
        ])}
      />
    </figure>
  );
}

function invoices(count: number): string {
  return count === 1 ? "1 invoice" : `${count} invoices`;
}
