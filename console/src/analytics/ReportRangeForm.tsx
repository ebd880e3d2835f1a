import { useState } from "react";
import { TextField } from "../forms/TextField";
import { GRANULARITIES, type Granularity, type ReportRange } from "./reportRange";

interface Props {
  /** The range shown first; `onChange` gets each valid range after it. */
  initialRange: ReportRange;
  onChange: (range: ReportRange) => void;
}

/** The reports' first and last day and their grouping. A range that is not one (a day
 * missing, or the first after the last) is said beside its field and not asked for. */
export function ReportRangeForm({ initialRange, onChange }: Props) {
  const [draft, setDraft] = useState(initialRange);
  const { from, to, granularity } = draft;
  const fromError = !from ? "Enter the first day" : to && from > to ? "Must not be after the last day" : null;
  const toError = !to ? "Enter the last day" : null;

  const change = (changed: Partial<ReportRange>) => {
    const next = { ...draft, ...changed };
    setDraft(next);
    if (next.from && next.to && next.from <= next.to) {
      onChange(next);
    }
  };

  return (
    <form
      className="report-range"
      aria-label="Report range"
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <TextField
        id="report-from"
        label="From"
        type="date"
        min="1900-01-01"
        max="2999-12-31"
        value={from}
        error={fromError}
        onChange={(value) => {
          change({ from: value });
        }}
      />
      <TextField
        id="report-to"
        label="To"
        type="date"
        min="1900-01-01"
        max="2999-12-31"
        value={to}
        error={toError}
        onChange={(value) => {
          change({ to: value });
        }}
      />
      <div className="field">
        <label htmlFor="report-granularity">Per</label>
        <select
          id="report-granularity"
          value={granularity}
          onChange={(event) => {
            change({ granularity: event.target.value as Granularity });
          }}
        >
          {GRANULARITIES.map(({ value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}
