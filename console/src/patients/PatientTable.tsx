import type { Patient, PatientSort } from "../api/client";
import { InternalLink } from "../nav/InternalLink";

type SortColumn = "name" | "email" | "dateOfBirth" | "registeredDate";

const COLUMNS: readonly { key: SortColumn | null; label: string }[] = [
  { key: "name", label: "Name" },
  { key: "email", label: "Email" },
  { key: "dateOfBirth", label: "Date of birth" },
  { key: "registeredDate", label: "Registered" },
  { key: null, label: "Address" },
  { key: null, label: "Billing" },
];

interface Props {
  patients: Patient[];
  sort: PatientSort;
  onSort: (sort: PatientSort) => void;
  busy: boolean;
}

/** One page of patients; a sortable column's heading is a button that sorts by it,
 * ascending first, descending when it already sorts ascending. */
export function PatientTable({ patients, sort, onSort, busy }: Props) {
  const column = sort.replace(/^-/, "");
  const descending = sort.startsWith("-");
  return (
    <table className="patients" aria-busy={busy}>
      <caption className="visually-hidden">Patients, sorted by {labelOf(column)}</caption>
      <thead>
        <tr>
          {COLUMNS.map(({ key, label }) => (
            <th
              key={label}
              scope="col"
              aria-sort={key === column ? (descending ? "descending" : "ascending") : undefined}
            >
              {key === null ? (
                label
              ) : (
                <button
                  type="button"
                  onClick={() => {
                    onSort(key === column && !descending ? `-${key}` : key);
                  }}
                >
                  {label}
                  <span aria-hidden="true">{key === column ? (descending ? " ▼" : " ▲") : ""}</span>
                </button>
              )}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {patients.map((patient) => (
          <tr key={patient.id}>
            <td>
              <InternalLink href={`/patients/${encodeURIComponent(patient.id)}`}>{patient.name}</InternalLink>
            </td>
            <td>{patient.email}</td>
            <td>{patient.dateOfBirth}</td>
            <td>{patient.registeredDate}</td>
            <td>{patient.address}</td>
            <td>{patient.billingStatus}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function labelOf(column: string): string {
  return COLUMNS.find(({ key }) => key === column)?.label.toLowerCase() ?? column;
}
