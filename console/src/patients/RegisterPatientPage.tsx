import { useRef } from "react";
import { newIdempotencyKey } from "../api/idempotencyKey";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";
import { InternalLink } from "../nav/InternalLink";
import { navigate } from "../nav/location";
import { EMPTY_PATIENT, PatientForm, type PatientFields } from "./PatientForm";

/** Register a patient; on 201, the new patient's page. */
export function RegisterPatientPage() {
  const { api } = useSessionStore();
  const { busy, refusal, send } = useWrite();
  // The same body sent twice (a double click, a retry) is one registration: it carries
  // the same Idempotency-Key. A changed body is a new request with a key of its own.
  const lastAttempt = useRef<{ body: string; key: string } | null>(null);

  async function register(fields: PatientFields) {
    const body = JSON.stringify(fields);
    if (lastAttempt.current?.body !== body) {
      lastAttempt.current = { body, key: newIdempotencyKey() };
    }
    const key = lastAttempt.current.key;
    const answer = await send(() =>
      api.POST("/api/patients", { body: fields, params: { header: { "idempotency-key": key } } }),
    );
    if (answer?.data) {
      navigate(`/patients/${encodeURIComponent(answer.data.id)}`);
    }
  }

  return (
    <>
      <p>
        <InternalLink href="/patients">Back to the patient list</InternalLink>
      </p>
      <h1 tabIndex={-1}>Register a patient</h1>
      {refusal.message && (
        <p className="error" role="alert">
          The patient was not registered: {refusal.message}
        </p>
      )}
      <PatientForm
        initial={EMPTY_PATIENT}
        submitLabel="Register"
        busy={busy}
        errors={refusal.fieldErrors}
        onSubmit={(fields) => void register(fields)}
      />
    </>
  );
}
