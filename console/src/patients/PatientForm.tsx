import { useEffect, useRef, useState, type SyntheticEvent } from "react";
import { TextField } from "../forms/TextField";

export interface PatientFields {
  name: string;
  email: string;
  address: string;
  dateOfBirth: string;
  registeredDate: string;
}

export const EMPTY_PATIENT: PatientFields = {
  name: "",
  email: "",
  address: "",
  dateOfBirth: "",
  registeredDate: "",
};

const FIELDS: readonly { key: keyof PatientFields; label: string; type: string }[] = [
  { key: "name", label: "Name", type: "text" },
  { key: "email", label: "Email", type: "email" },
  { key: "address", label: "Address", type: "text" },
  { key: "dateOfBirth", label: "Date of birth", type: "date" },
  { key: "registeredDate", label: "Registered", type: "date" },
];

interface Props {
  initial: PatientFields;
  submitLabel: string;
  busy: boolean;
  /** The API's message per field (problem+json `errors`), shown beside each field. */
  errors: Record<string, string>;
  onSubmit: (fields: PatientFields) => void;
  onCancel?: () => void;
}

/** A patient's fields; the API checks them, and its messages are shown beside each. */
export function PatientForm({ initial, submitLabel, busy, errors, onSubmit, onCancel }: Props) {
  const [fields, setFields] = useState(initial);
  const form = useRef<HTMLFormElement>(null);

  // After a refusal, the first field it names takes the focus.
  useEffect(() => {
    form.current?.querySelector<HTMLInputElement>("[aria-invalid='true']")?.focus();
  }, [errors]);

  function submit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    onSubmit(fields);
  }

  return (
    <form ref={form} className="patient-form" noValidate onSubmit={submit}>
      {FIELDS.map(({ key, label, type }) => (
        <TextField
          key={key}
          id={`patient-${key}`}
          label={label}
          type={type}
          value={fields[key]}
          error={errors[key]}
          onChange={(value) => {
            setFields({ ...fields, [key]: value });
          }}
        />
      ))}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
