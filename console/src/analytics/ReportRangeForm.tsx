import { useState } from "react";
import { SelectField } from "../forms/SelectField";
import { TextField } from "../forms/TextField";
import { GRANULARITIES, type ReportRange } from "./reportRange";

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
  const days = [
    { key: "from", label: "From", value: from, error: fromError },
    { key: "to", label: "To", value: to, error: !to ? "Enter the last day" : null },
  ] as const;

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
      {days.map((day) => (
        <TextField
          key={day.key}
          id={`report-${day.key}`}
          label={day.label}
          type="date"
          min="1900-01-01"
          max="2999-12-31"
          value={day.value}
          error={day.error}
          onChange={(value) => {
            change({ [day.key]: value });
          }}
        />
      ))}
      <SelectField
        id="report-granularity"
        label="Per"
        value={granularity}
        options={GRANULARITIES}
        onChange={(value) => {
          change({ granularity: value });
        }}
      />
    </form>
  );
}
