import { useCallback } from "react";
import type { Patient } from "../api/client";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import type { Role } from "../auth/claims";
import { InternalLink } from "../nav/InternalLink";
import { PatientAuditTrail } from "./PatientAuditTrail";
import { PatientBilling } from "./PatientBilling";
import { PatientDetails } from "./PatientDetails";

/** One patient: details, billing status and, for an ADMIN, the audit trail. */
export function PatientPage({ patientId, role }: { patientId: string; role: Role }) {
  const load = useCallback<ApiLoad<Patient>>(
    (api, signal) =>
      api.GET("/api/patients/{patient_id}", { params: { path: { patient_id: patientId } }, signal }),
    [patientId],
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
      {patient.status === "loaded" && (
        <>
          <PatientDetails patient={patient.value} />
          <PatientBilling patientId={patientId} />
          {role === "ADMIN" && <PatientAuditTrail patientId={patientId} />}
        </>
      )}
    </>
  );
}
