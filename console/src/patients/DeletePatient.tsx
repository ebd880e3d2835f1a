import { useState } from "react";
import type { Patient } from "../api/client";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";
import { navigate } from "../nav/location";

/** Delete a patient (ADMIN), after a confirmation; then the patient list. */
export function DeletePatient({ patient, etag }: { patient: Patient; etag: string | null }) {
  const { api } = useSessionStore();
  const [confirming, setConfirming] = useState(false);
  const { busy, refusal, send } = useWrite();

  async function remove() {
    const answer = await send(() =>
      api.DELETE("/api/patients/{patient_id}", {
        params: { path: { patient_id: patient.id } },
        headers: etag ? { "If-Match": etag } : {},
      }),
    );
    if (answer) {
      navigate("/patients");
    }
  }

  if (!confirming) {
    return (
      <button
        type="button"
        className="danger"
        onClick={() => {
          setConfirming(true);
        }}
      >
        Delete patient
      </button>
    );
  }
  return (
    <div role="alertdialog" aria-labelledby="delete-question" className="confirm">
      <p id="delete-question">Delete {patient.name} and their record? This cannot be undone.</p>
      {refusal.message && (
        <p className="error" role="alert">
          The patient was not deleted: {refusal.message}
        </p>
      )}
      <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
        Delete
      </button>
      <button
        type="button"
        autoFocus
        onClick={() => {
          setConfirming(false);
        }}
      >
        Cancel
      </button>
    </div>
  );
}
