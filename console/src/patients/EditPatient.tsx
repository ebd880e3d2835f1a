import type { Patient } from "../api/client";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";
import { PatientForm, type PatientFields } from "./PatientForm";

interface Props {
  patient: Patient;
  /** The version the page showed (`ETag`): the edit is refused (412) if it is stale. */
  etag: string | null;
  onDone: () => void;
  onCancel: () => void;
}

/** Edit a patient with `If-Match`, so a change made meanwhile by someone else is not
 * overwritten: then the page says so and offers to reload. */
export function EditPatient({ patient, etag, onDone, onCancel }: Props) {
  const { api } = useSessionStore();
  const { busy, refusal, send } = useWrite();

  async function save(fields: PatientFields) {
    const answer = await send(() =>
      api.PUT("/api/patients/{patient_id}", {
        params: { path: { patient_id: patient.id } },
        body: fields,
        headers: etag ? { "If-Match": etag } : {},
      }),
    );
    if (answer) {
      onDone();
    }
  }

  const stale = refusal.status === 412;
  return (
    <section aria-labelledby="edit-patient">
      <h2 id="edit-patient">Edit</h2>
      {refusal.message && (
        <div className="error" role="alert">
          {stale
            ? "Someone else changed this patient since you opened the page. Reload it to see their change, then edit again."
            : `The change was not saved: ${refusal.message}`}
          {stale && (
            <button type="button" onClick={onDone}>
              Reload
            </button>
          )}
        </div>
      )}
      <PatientForm
        initial={{
          name: patient.name,
          email: patient.email,
          address: patient.address,
          dateOfBirth: patient.dateOfBirth,
          registeredDate: patient.registeredDate,
        }}
        submitLabel="Save"
        busy={busy}
        errors={refusal.fieldErrors}
        onSubmit={(fields) => void save(fields)}
        onCancel={onCancel}
      />
    </section>
  );
}
