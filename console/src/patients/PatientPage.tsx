import { useCallback, useState } from "react";
import type { Patient } from "../api/client";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import type { Role } from "../auth/claims";
import { InternalLink } from "../nav/InternalLink";
import { DeletePatient } from "./DeletePatient";
import { EditPatient } from "./EditPatient";
import { PatientAuditTrail } from "./PatientAuditTrail";
import { PatientBilling } from "./PatientBilling";
import { PatientDetails } from "./PatientDetails";

/** One patient: details, billing status and, for an ADMIN, the audit trail; edit, and
 * for an ADMIN delete. */
export function PatientPage({ patientId, role }: { patientId: string; role: Role }) {
  const [generation, setGeneration] = useState(0);
  const [editing, setEditing] = useState(false);
  // A new `generation` is a new read (after an edit, or to see someone else's).
  const load = useCallback<ApiLoad<Patient>>(
    (api, signal) =>
      api.GET("/api/patients/{patient_id}", { params: { path: { patient_id: patientId } }, signal }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- generation: to read again
    [patientId, generation],
  );
  const patient = useApiRead(load);
  return (
    <>
      <p>
        <InternalLink href="/patients">Back to the patient list</InternalLink>
      </p>
      <h1 tabIndex={-1}>{patient.status === "loaded" ? patient.value.name : "Patient"}</h1>
      {patient.status === "loading" && <p role="status">Loading the patient…</p>}
      {patient.status === "failed" && (
        <p className="error" role="alert">
          {patient.httpStatus === 404 ? "There is no such patient." : patient.message}
        </p>
      )}
      {patient.status === "loaded" && editing && (
        <EditPatient
          patient={patient.value}
          etag={patient.etag}
          onDone={() => {
            setEditing(false);
            setGeneration((count) => count + 1);
          }}
          onCancel={() => {
            setEditing(false);
          }}
        />
      )}
      {patient.status === "loaded" && !editing && (
        <>
          <div className="actions">
            <button
              type="button"
              onClick={() => {
                setEditing(true);
              }}
            >
              Edit
            </button>
            {role === "ADMIN" && <DeletePatient patient={patient.value} etag={patient.etag} />}
          </div>
          <PatientDetails patient={patient.value} />
          <PatientBilling patientId={patientId} />
          {role === "ADMIN" && <PatientAuditTrail patientId={patientId} />}
        </>
      )}
    </>
  );
}
