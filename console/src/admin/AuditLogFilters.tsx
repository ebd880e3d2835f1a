import { useCallback, useState, type SyntheticEvent } from "react";
import { SelectField } from "../forms/SelectField";
import { TextField } from "../forms/TextField";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import { NO_FILTERS, type AuditFilters } from "./auditQuery";
import type { StaffAccount } from "./StaffAccountRow";

const ACTIONS = ["READ", "LIST", "CREATE", "UPDATE", "DELETE"] as const;
const STAFF_SHOWN = 100;

/** The audit log's filters, applied when the form is submitted; `errors` are the API's
 * messages for them (a patient id that is not one). */
export function AuditLogFilters({
  errors,
  onApply,
}: {
  errors: Record<string, string>;
  onApply: (filters: AuditFilters) => void;
}) {
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  const staff = useStaffOptions();
  const set = (name: keyof AuditFilters) => (value: string) => {
    setFilters((current) => ({ ...current, [name]: value }));
  };
  const apply = (event: SyntheticEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply(filters);
  };
  return (
    <form className="audit-filters" aria-label="Filter the audit log" onSubmit={apply}>
      <TextField
        id="audit-patient"
        label="Patient id"
        value={filters.patientId}
        onChange={set("patientId")}
        error={errors.patientId}
        spellCheck={false}
      />
      <SelectField id="audit-user" label="Who" value={filters.userId} options={staff} onChange={set("userId")} />
      <SelectField
        id="audit-action"
        label="Action"
        value={filters.action}
        options={[{ value: "", label: "Any action" }, ...ACTIONS.map((action) => ({ value: action, label: action }))]}
        onChange={set("action")}
      />
      <TextField id="audit-from" label="From" type="date" value={filters.from} onChange={set("from")} error={errors.since} />
      <TextField
        id="audit-until"
        label="Until (inclusive)"
        type="date"
        value={filters.until}
        onChange={set("until")}
        error={errors.until}
      />
      <div className="filter-actions">
        <button type="submit">Filter</button>
        <button
          type="button"
          onClick={() => {
            setFilters(NO_FILTERS);
            onApply(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

/** "Anyone", then each staff account by email (the log is filtered by the account's id). */
function useStaffOptions(): { value: string; label: string }[] {
  const load = useCallback<ApiLoad<StaffAccount[]>>(
    (api, signal) => api.GET("/auth/users", { params: { query: { page: 1, size: STAFF_SHOWN } }, signal }),
    [],
  );
  const accounts = useApiRead(load);
  const listed = accounts.status === "loaded" ? accounts.value : [];
  return [{ value: "", label: "Anyone" }, ...listed.map((account) => ({ value: account.id, label: account.email }))];
}
