import { InternalLink } from "../nav/InternalLink";
import { usePath } from "../nav/location";
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
      <nav className="subsections" aria-label="Administration">
        <ul>
          {PAGES.map((page) => (
            <li key={page.path}>
              <InternalLink href={page.path} aria-current={page === current ? "page" : undefined}>
                {page.label}
              </InternalLink>
            </li>
          ))}
        </ul>
      </nav>
      {current.path === "/administration/audit" ? <AuditLog /> : <StaffAccounts />}
    </>
  );
}
