import type { Role } from "../auth/claims";
import { PageLinks } from "./PageLinks";
import { sectionsFor, type Section } from "./sections";

/** The links to the sections `role` may use, the current one marked. */
export function Navigation({ role, current }: { role: Role; current: Section | undefined }) {
  return <PageLinks label="Sections" links={sectionsFor(role)} current={current?.path} />;
}
