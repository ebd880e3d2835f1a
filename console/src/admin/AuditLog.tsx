import { useCallback, useState } from "react";
import { linksOfAnswer } from "../api/links";
import { ReadList } from "../api/ReadList";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import { AuditEntryHead, AuditEntryRow, type AuditEntry } from "../patients/AuditEntryRow";
import { PatientPager } from "../patients/PatientPager";
import { AuditLogFilters } from "./AuditLogFilters";
import { auditQueryOfLink, firstAuditPage, NO_FILTERS, type AuditQuery } from "./auditQuery";

interface AuditPage {
  entries: AuditEntry[];
  total: number;
  links: Record<string, URL>;
}

/** The audit log of patient data access (ADMIN): who read or changed which patients'
 * records, newest first, filtered and paged by the API's `Link` and `X-Total-Count`. */
export function AuditLog() {
  const [query, setQuery] = useState<AuditQuery>(() => firstAuditPage(NO_FILTERS));
  const load = useCallback<ApiLoad<AuditPage>>(
    async (api, signal) => {
      const { data, error, response } = await api.GET("/api/audit", { params: { query }, signal });
      if (data === undefined) {
        return { error, response };
      }
      const total = Number(response.headers.get("X-Total-Count") ?? data.length);
      return { data: { entries: data, total, links: linksOfAnswer(response, "/api/audit") }, response };
    },
    [query],
  );
  const log = useApiRead(load);
  return (
    <section aria-labelledby="audit-log">
      <h2 id="audit-log">Audit log</h2>
      <AuditLogFilters
        errors={log.status === "failed" ? log.errors : {}}
        onApply={(filters) => {
          setQuery(firstAuditPage(filters));
        }}
      />
      <ReadList read={log} subject="the audit log" items={(page) => page.entries} empty="No access matches these filters.">
        {(entries, page) => (
          <>
            <p className="list-status">{rangeMessage(query, entries.length, page.total)}</p>
            <table className="audit audit-log">
              <caption className="visually-hidden">The audit log, newest first</caption>
              <AuditEntryHead patients />
              <tbody>
                {entries.map((entry) => (
                  <AuditEntryRow key={entry.id} entry={entry} patients />
                ))}
              </tbody>
            </table>
            <PatientPager
              label="Pages of the audit log"
              page={query.page ?? 1}
              links={page.links}
              onFollow={(link) => {
                setQuery(auditQueryOfLink(link));
              }}
            />
          </>
        )}
      </ReadList>
    </section>
  );
}

function rangeMessage(query: AuditQuery, rows: number, total: number): string {
  const first = ((query.page ?? 1) - 1) * (query.size ?? rows) + 1;
  return `Entries ${first}–${first + rows - 1} of ${total}`;
}
