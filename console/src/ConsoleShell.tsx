import { useEffect, useRef } from "react";
import { AdministrationPage } from "./admin/AdministrationPage";
import { AnalyticsSection } from "./analytics/AnalyticsSection";
import type { SignedInUser } from "./auth/claims";
import { useSessionStore } from "./auth/SessionContext";
import { navigate, usePath } from "./nav/location";
import { Navigation } from "./nav/Navigation";
import { sectionOf, sectionsFor } from "./nav/sections";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PatientListPage } from "./patients/PatientListPage";
import { PatientPage } from "./patients/PatientPage";
import { RegisterPatientPage } from "./patients/RegisterPatientPage";

/** The page frame of a signed-in user: header, the role's navigation, the section. */
export function ConsoleShell({ user }: { user: SignedInUser }) {
  const store = useSessionStore();
  const path = usePath();
  const section = sectionOf(path, user.role);
  const home = sectionsFor(user.role)[0];
  const main = useRef<HTMLElement>(null);
  const patientId = /^\/patients\/([^/]+)$/.exec(path)?.[1];

  useEffect(() => {
    if (path === "/" && home) {
      navigate(home.path, { replace: true });
    }
  }, [path, home]);

  // After a move to another section, a screen reader starts at its content.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    main.current?.querySelector("h1")?.focus();
  }, [path]);

  return (
    <div className="shell">
      <header className="shell-header">
        <span className="brand">PMS console</span>
        <Navigation role={user.role} current={section} />
        <span className="user">
          {user.email} <span className="role">({user.role})</span>
        </span>
        <button type="button" onClick={() => void store.signOut()}>
          Sign out
        </button>
      </header>
      <main ref={main}>
        {section?.path === "/patients" &&
          (patientId === "new" ? (
            <RegisterPatientPage />
          ) : patientId ? (
            <PatientPage patientId={decodeURIComponent(patientId)} role={user.role} />
          ) : (
            <PatientListPage />
          ))}
        {section?.path === "/administration" && <AdministrationPage />}
        {section?.path === "/analytics" && <AnalyticsSection />}
        {!section && path !== "/" && <NotFoundPage />}
      </main>
    </div>
  );
}
