import { Bar } from "recharts";
import type { components } from "../api/generated/analytics";
import { BarChartFigure } from "./BarChartFigure";
import { perPeriod, periodLabel } from "./reportRange";

type Registrations = components["schemas"]["RegistrationsOut"];

/** Patients registered per period, as bars; its figures are its text alternative. */
export function RegistrationsChart({ report }: { report: Registrations }) {
  const rows = report.buckets.map((bucket) => ({
    period: periodLabel(bucket.start, report.granularity),
    count: bucket.count,
  }));
  const busiest = rows.reduce<(typeof rows)[number] | null>(
    (most, row) => (row.count > (most?.count ?? 0) ? row : most),
    null,
  );
  const title = `Registrations ${perPeriod(report.granularity)}, ${report.from} to ${report.to}`;
  const summary = `${title}: ${report.total} in total${busiest ? `, most in ${busiest.period} (${busiest.count})` : ""}.`;
  return (
    <BarChartFigure
      summary={summary}
      data={rows}
      yAxisWidth={40}
      table={{
        caption: title,
        columns: ["Period", "Registrations"],
        rows: rows.map((row) => [row.period, String(row.count)]),
      }}
    >
      <Bar dataKey="count" name="Registrations" fill="#0b5394" isAnimationActive={false} />
    </BarChartFigure>
  );
}
