import { useState, type SyntheticEvent } from "react";
import { useWrite } from "../api/useWrite";
import { ROLES, type Role } from "../auth/claims";
import { useSessionStore } from "../auth/SessionContext";

const FIELDS = [
  { key: "email", label: "Email", type: "email" },
  { key: "password", label: "Password", type: "password" },
] as const;

/** A new staff account: email, first password and role; the API's messages per field. */
export function CreateStaffAccount({ onCreated }: { onCreated: () => void }) {
  const { api } = useSessionStore();
  const { busy, refusal, send } = useWrite();
  const [values, setValues] = useState({ email: "", password: "" });
  const [role, setRole] = useState<Role>("CLINICIAN");

  async function create(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    const answer = await send(() => api.POST("/auth/users", { body: { ...values, role } }));
    if (answer) {
      setValues({ email: "", password: "" });
      onCreated();
    }
  }

  const unplaced = refusal.message && !Object.keys(refusal.fieldErrors).length;
  return (
    <form className="patient-form" noValidate onSubmit={(event) => void create(event)}>
      <h2>New staff account</h2>
      {unplaced && (
        <p className="error" role="alert">
          The account was not created: {refusal.message}
        </p>
      )}
      {FIELDS.map(({ key, label, type }) => {
        const error = refusal.fieldErrors[key];
        return (
          <div key={key} className="field">
            <label htmlFor={`new-account-${key}`}>{label}</label>
            <input
              id={`new-account-${key}`}
              type={type}
              autoComplete={key === "password" ? "new-password" : "off"}
              value={values[key]}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `new-account-${key}-error` : undefined}
              onChange={(event) => {
                setValues({ ...values, [key]: event.target.value });
              }}
            />
            {error && (
              <span id={`new-account-${key}-error`} className="field-error">
                {error}
              </span>
            )}
          </div>
        );
      })}
      <div className="field">
        <label htmlFor="new-account-role">Role</label>
        <select
          id="new-account-role"
          value={role}
          onChange={(event) => {
            setRole(event.target.value as Role);
          }}
        >
          {ROLES.map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Create account
        </button>
      </div>
    </form>
  );
}
