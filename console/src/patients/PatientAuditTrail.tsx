import { useCallback } from "react";
import type { components } from "../api/generated/patients";
import { useApiRead, type ApiLoad } from "../api/useApiRead";

type AuditEntry = components["schemas"]["AuditEntryOut"];

const SHOWN = 20;

/** Who read or changed this patient's record, newest first (ADMIN only). */
export function PatientAuditTrail({ patientId }: { patientId: string }) {
  const load = useCallback<ApiLoad<AuditEntry[]>>(
    (api, signal) =>
      api.GET("/api/patients/{patient_id}/audit", {
        params: { path: { patient_id: patientId }, query: { page: 1, size: SHOWN } },
        signal,
      }),
    [patientId],
  );
  const trail = useApiRead(load);
  return (
    <section aria-labelledby="patient-audit">
      <h2 id="patient-audit">Audit trail</h2>
      {trail.status === "loading" && <p role="status">Loading the audit trail…</p>}
      {trail.status === "failed" && (
        <p className="error" role="alert">
          The audit trail could not be read: {trail.message}
        </p>
      )}
      {trail.status === "loaded" && trail.value.length === 0 && <p>No access recorded yet.</p>}
      {trail.status === "loaded" && trail.value.length > 0 && (
        <table className="audit">
          <caption className="visually-hidden">The latest {SHOWN} accesses, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {trail.value.map((entry) => (
              <tr key={entry.id}>
                <td>{new Date(entry.occurredAt).toLocaleString()}</td>
                <td>
                  {entry.userEmail} ({entry.userRole})
                </td>
                <td>{entry.action}</td>
                <td>{entry.outcome}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
