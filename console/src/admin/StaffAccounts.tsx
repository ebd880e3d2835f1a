import { useCallback, useState } from "react";
import { ReadList } from "../api/ReadList";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import { CreateStaffAccount } from "./CreateStaffAccount";
import { StaffAccountRow, type StaffAccount } from "./StaffAccountRow";

const PAGE_SIZE = 100;

/** Staff accounts (ADMIN): who may use the platform, in which role. */
export function StaffAccounts() {
  const [generation, setGeneration] = useState(0);
  const load = useCallback<ApiLoad<StaffAccount[]>>(
    (api, signal) => api.GET("/auth/users", { params: { query: { page: 1, size: PAGE_SIZE } }, signal }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- generation: to read again
    [generation],
  );
  const accounts = useApiRead(load);
  const reload = () => {
    setGeneration((count) => count + 1);
  };
  return (
    <>
      <section aria-labelledby="staff-accounts">
        <h2 id="staff-accounts">Staff accounts</h2>
        <ReadList read={accounts} subject="the staff accounts" items={(value) => value} empty="No staff accounts yet.">
          {(listed) => (
            <table className="accounts">
              <caption className="visually-hidden">Staff accounts (the first {PAGE_SIZE})</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {listed.map((account) => (
                  <StaffAccountRow key={account.id} account={account} onChanged={reload} />
                ))}
              </tbody>
            </table>
          )}
        </ReadList>
      </section>
      <CreateStaffAccount onCreated={reload} />
    </>
  );
}
