const RELATIONS = [
  { relation: "first", label: "First page" },
  { relation: "prev", label: "Previous page" },
  { relation: "next", label: "Next page" },
  { relation: "last", label: "Last page" },
] as const;

/** Buttons for the pages the API's `Link` header names; one it does not name (no
 * previous page on the first), or that is the page shown, is disabled. */
export function PatientPager({
  page,
  links,
  onFollow,
  label = "Pages of patients",
}: {
  page: number;
  /** The pager's name for screen readers. */
  label?: string;
  links: Record<string, URL>;
  onFollow: (link: URL) => void;
}) {
  const last = Math.max(1, pageOf(links.last));
  return (
    <nav className="pager" aria-label={label}>
      {RELATIONS.map(({ relation, label }) => {
        const target = links[relation];
        const link = target && pageOf(target) !== page ? target : undefined;
        return (
          <button
            key={relation}
            type="button"
            disabled={link === undefined}
            onClick={() => {
              if (link) onFollow(link);
            }}
          >
            {label}
          </button>
        );
      })}
      <span>
        Page {page} of {last}
      </span>
    </nav>
  );
}

function pageOf(link: URL | undefined): number {
  return link ? Number(link.searchParams.get("page") ?? 0) : 0;
}
