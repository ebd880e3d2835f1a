import type { components } from "../api/generated/patients";
import { InternalLink } from "../nav/InternalLink";

export type AuditEntry = components["schemas"]["AuditEntryOut"];

/** The columns of an audit entry's row. */
export function AuditEntryHead({ patients = false }: { patients?: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col">When</th>
        <th scope="col">Who</th>
        <th scope="col">Action</th>
        {patients && <th scope="col">Patients</th>}
        <th scope="col">Outcome</th>
      </tr>
    </thead>
  );
}

/** Who did what when, and how it ended; with the patients it was about when asked. */
export function AuditEntryRow({ entry, patients = false }: { entry: AuditEntry; patients?: boolean }) {
  return (
    <tr>
      <td>{new Date(entry.occurredAt).toLocaleString()}</td>
      <td>
        {entry.userEmail} ({entry.userRole})
      </td>
      <td>{entry.action}</td>
      {patients && (
        <td className="ids">
          <PatientLinks ids={entry.patientIds} />
        </td>
      )}
      <td>{entry.outcome}</td>
    </tr>
  );
}

const LISTED = 3;

/** The first patients, each a link to their page (named by the whole id, shown short). */
function PatientLinks({ ids }: { ids: readonly string[] }) {
  if (ids.length === 0) return <>—</>;
  return (
    <>
      {ids.slice(0, LISTED).map((id) => (
        <InternalLink key={id} href={`/patients/${encodeURIComponent(id)}`} aria-label={`Patient ${id}`}>
          {id.slice(0, 8)}…
        </InternalLink>
      ))}
      {ids.length > LISTED && ` and ${ids.length - LISTED} more`}
    </>
  );
}
