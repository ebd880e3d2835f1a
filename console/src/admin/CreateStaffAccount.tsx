import { useState, type SyntheticEvent } from "react";
import { useWrite } from "../api/useWrite";
import { ROLES, type Role } from "../auth/claims";
import { useSessionStore } from "../auth/SessionContext";
import { TextField } from "../forms/TextField";

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
      {FIELDS.map(({ key, label, type }) => (
        <TextField
          key={key}
          id={`new-account-${key}`}
          label={label}
          type={type}
          autoComplete={key === "password" ? "new-password" : "off"}
          value={values[key]}
          error={refusal.fieldErrors[key]}
          onChange={(value) => {
            setValues({ ...values, [key]: value });
          }}
        />
      ))}
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
