import { usePath } from "../nav/location";
import { PageLinks } from "../nav/PageLinks";
import { AuditLog } from "./AuditLog";
import { StaffAccounts } from "./StaffAccounts";

const PAGES = [
  { path: "/administration", label: "Staff accounts" },
  { path: "/administration/audit", label: "Audit log" },
] as const;

/** Administration (ADMIN): the staff accounts, and the audit log of patient data access. */
export function AdministrationPage() {
  const path = usePath();
  const current = PAGES.find((page) => page.path === path) ?? PAGES[0];
  return (
    <>
      <h1 tabIndex={-1}>Administration</h1>
      <PageLinks label="Administration" className="subsections" links={PAGES} current={current.path} />
      {current.path === "/administration/audit" ? <AuditLog /> : <StaffAccounts />}
    </>
  );
}
