import type { MouseEvent } from "react";
import type { Role } from "../auth/claims";
import { navigate } from "./location";
import { sectionsFor, type Section } from "./sections";

/** The links to the sections `role` may use, the current one marked. */
export function Navigation({ role, current }: { role: Role; current: Section | undefined }) {
  function follow(event: MouseEvent<HTMLAnchorElement>, path: string) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // A new tab or window: the browser's own way.
    }
    event.preventDefault();
    navigate(path);
  }

  return (
    <nav aria-label="Sections">
      <ul>
        {sectionsFor(role).map((section) => (
          <li key={section.path}>
            <a
              href={section.path}
              aria-current={section === current ? "page" : undefined}
              onClick={(event) => {
                follow(event, section.path);
              }}
            >
              {section.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
