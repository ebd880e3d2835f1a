import { useId } from "react";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { components } from "../api/generated/analytics";
import { FiguresTable } from "./FiguresTable";
import { perPeriod, periodLabel } from "./reportRange";

type Registrations = components["schemas"]["RegistrationsOut"];

export const CHART_HEIGHT = 240;
// jsdom measures nothing: the size a chart starts with until its container is measured.
export const INITIAL_CHART_SIZE = { width: 720, height: CHART_HEIGHT };

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
  const captionId = useId();
  return (
    <figure className="chart">
      <div role="img" aria-labelledby={captionId}>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT} initialDimension={INITIAL_CHART_SIZE}>
          <BarChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="period" />
            <YAxis allowDecimals={false} width={40} />
            <Tooltip />
            <Bar dataKey="count" name="Registrations" fill="#0b5394" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption id={captionId}>{summary}</figcaption>
      <FiguresTable
        caption={title}
        columns={["Period", "Registrations"]}
        rows={rows.map((row) => [row.period, String(row.count)])}
      />
    </figure>
  );
}
