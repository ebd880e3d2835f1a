import type { Role } from "../auth/claims";
import { InternalLink } from "./InternalLink";
import { sectionsFor, type Section } from "./sections";

/** The links to the sections `role` may use, the current one marked. */
export function Navigation({ role, current }: { role: Role; current: Section | undefined }) {
  return (
    <nav aria-label="Sections">
      <ul>
        {sectionsFor(role).map((section) => (
          <li key={section.path}>
            <InternalLink href={section.path} aria-current={section === current ? "page" : undefined}>
              {section.label}
            </InternalLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
