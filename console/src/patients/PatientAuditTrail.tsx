import { useCallback } from "react";
import { ReadList } from "../api/ReadList";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import { AuditEntryHead, AuditEntryRow, type AuditEntry } from "./AuditEntryRow";

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
      <ReadList read={trail} subject="the audit trail" items={(value) => value} empty="No access recorded yet.">
        {(entries) => (
          <table className="audit">
            <caption className="visually-hidden">The latest {SHOWN} accesses, newest first</caption>
            <AuditEntryHead />
            <tbody>
              {entries.map((entry) => (
                <AuditEntryRow key={entry.id} entry={entry} />
              ))}
            </tbody>
          </table>
        )}
      </ReadList>
    </section>
  );
}
