import { InternalLink } from "./InternalLink";

/** A named navigation of links to pages of the console, the current one marked. */
export function PageLinks({
  label,
  links,
  current,
  className,
}: {
  label: string;
  links: readonly { path: string; label: string }[];
  current: string | undefined;
  className?: string;
}) {
  return (
    <nav aria-label={label} className={className}>
      <ul>
        {links.map((link) => (
          <li key={link.path}>
            <InternalLink href={link.path} aria-current={link.path === current ? "page" : undefined}>
              {link.label}
            </InternalLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
