import { useId, type ReactNode } from "react";
import { BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { FiguresTable } from "./FiguresTable";

const HEIGHT = 240;
// jsdom measures nothing: the size a chart starts with until its container is measured.
const INITIAL_SIZE = { width: 720, height: HEIGHT };

interface Props {
  /** What the chart shows, in words: its caption and its accessible name. */
  summary: string;
  /** One entry a period, labelled by its `period`. */
  data: readonly ({ period: string } & Record<string, unknown>)[];
  /** How a value is written on the axis and in the tooltip (plain numbers by default). */
  formatValue?: (value: number) => string;
  yAxisWidth: number;
  table: Parameters<typeof FiguresTable>[0];
  /** The bars (and a legend), Recharts elements. */
  children: ReactNode;
}

/** Bars per period with their caption, the chart being an image named by the caption,
 * and the figures as a table on demand: the text alternative of the chart. */
export function BarChartFigure({ summary, data, formatValue, yAxisWidth, table, children }: Props) {
  const captionId = useId();
  return (
    <figure className="chart">
      <div role="img" aria-labelledby={captionId}>
        <ResponsiveContainer width="100%" height={HEIGHT} initialDimension={INITIAL_SIZE}>
          <BarChart data={[...data]} accessibilityLayer={false} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="period" />
            <YAxis allowDecimals={false} tickFormatter={formatValue} width={yAxisWidth} />
            <Tooltip
              formatter={(value) => (typeof value === "number" && formatValue ? formatValue(value) : String(value))}
            />
            {children}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption id={captionId}>{summary}</figcaption>
      <FiguresTable {...table} />
    </figure>
  );
}
