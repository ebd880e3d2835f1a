import { useState, type SyntheticEvent } from "react";
import type { components } from "../api/generated/auth";
import { useWrite } from "../api/useWrite";
import { ROLES, type Role } from "../auth/claims";
import { useSessionStore } from "../auth/SessionContext";

export type StaffAccount = components["schemas"]["UserOut"];

/** One staff account: change its role, disable or enable it, set a new password. */
export function StaffAccountRow({ account, onChanged }: { account: StaffAccount; onChanged: () => void }) {
  const { api } = useSessionStore();
  const change = useWrite();
  const password = useWrite();
  const [settingPassword, setSettingPassword] = useState(false);
  const [newPassword, setNewPassword] = useState("");
  const id = account.id;

  async function patch(body: { role?: Role; disabled?: boolean }) {
    const answer = await change.send(() =>
      api.PATCH("/auth/users/{user_id}", { params: { path: { user_id: id } }, body }),
    );
    if (answer) onChanged();
  }

  async function savePassword(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    const answer = await password.send(() =>
      api.POST("/auth/users/{user_id}/password", {
        params: { path: { user_id: id } },
        body: { password: newPassword },
      }),
    );
    if (answer) {
      setSettingPassword(false);
      setNewPassword("");
    }
  }

  const passwordError = password.refusal.fieldErrors.password ?? password.refusal.message;
  return (
    <tr>
      <td>{account.email}</td>
      <td>
        <label className="visually-hidden" htmlFor={`role-${id}`}>
          Role of {account.email}
        </label>
        <select
          id={`role-${id}`}
          value={account.role}
          disabled={change.busy}
          onChange={(event) => void patch({ role: event.target.value as Role })}
        >
          {ROLES.map((role) => (
            <option key={role}>{role}</option>
          ))}
        </select>
      </td>
      <td>{account.disabled ? "Disabled" : "Enabled"}</td>
      <td>
        <div className="row-actions">
          <button
            type="button"
            disabled={change.busy}
            aria-label={`${account.disabled ? "Enable" : "Disable"} ${account.email}`}
            onClick={() => void patch({ disabled: !account.disabled })}
          >
            {account.disabled ? "Enable" : "Disable"}
          </button>
          {!settingPassword ? (
            <button
              type="button"
              aria-label={`Set password of ${account.email}`}
              onClick={() => {
                setSettingPassword(true);
              }}
            >
              Set password
            </button>
          ) : (
            <form className="inline-form" noValidate onSubmit={(event) => void savePassword(event)}>
              <label htmlFor={`password-${id}`}>New password for {account.email}</label>
              <input
                id={`password-${id}`}
                type="password"
                autoComplete="new-password"
                autoFocus
                value={newPassword}
                aria-invalid={passwordError ? true : undefined}
                aria-describedby={passwordError ? `password-${id}-error` : undefined}
                onChange={(event) => {
                  setNewPassword(event.target.value);
                }}
              />
              <button type="submit" disabled={password.busy}>
                Save password
              </button>
              {passwordError && (
                <span id={`password-${id}-error`} className="field-error">
                  {passwordError}
                </span>
              )}
            </form>
          )}
          {change.refusal.message && (
            <span className="error" role="alert">
              {change.refusal.message}
            </span>
          )}
        </div>
      </td>
    </tr>
  );
}
