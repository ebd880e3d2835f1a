import type { Role } from "../auth/claims";

export interface Section {
  path: string;
  label: string;
  roles: readonly Role[];
}

/** The console's sections and who sees each: a role that may not use a section does
 * not see it at all (the gateway would refuse its calls anyway). */
export const SECTIONS: readonly Section[] = [
  { path: "/patients", label: "Patients", roles: ["CLINICIAN", "ADMIN"] },
  { path: "/analytics", label: "Analytics", roles: ["ANALYST", "ADMIN"] },
  { path: "/administration", label: "Administration", roles: ["ADMIN"] },
];

export function sectionsFor(role: Role): Section[] {
  return SECTIONS.filter((section) => section.roles.includes(role));
}

/** The section a path is in (`/patients/7` is in Patients), if the role may see it. */
export function sectionOf(path: string, role: Role): Section | undefined {
  return sectionsFor(role).find(
    (section) => path === section.path || path.startsWith(`${section.path}/`),
  );
}
