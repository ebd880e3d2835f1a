import type { operations } from "../api/generated/patients";

export type AuditQuery = NonNullable<operations["audit_log_audit_get"]["parameters"]["query"]>;

export const AUDIT_PAGE_SIZE = 20;

/** The filters as the form holds them: dates are the day (`2024-05-01`), "" is any. */
export interface AuditFilters {
  patientId: string;
  userId: string;
  action: string;
  from: string;
  until: string;
}

export const NO_FILTERS: AuditFilters = { patientId: "", userId: "", action: "", from: "", until: "" };

/** The first page of the audit log for these filters: the days are local days, `until`
 * included (so the API's exclusive `until` is the start of the next day). */
export function firstAuditPage(filters: AuditFilters): AuditQuery {
  const query: AuditQuery = { page: 1, size: AUDIT_PAGE_SIZE };
  if (filters.patientId.trim()) query.patientId = filters.patientId.trim();
  if (filters.userId) query.userId = filters.userId;
  if (filters.action) query.action = filters.action;
  if (filters.from) query.since = startOfDay(filters.from, 0);
  if (filters.until) query.until = startOfDay(filters.until, 1);
  return query;
}

function startOfDay(day: string, daysLater: number): string {
  const start = new Date(`${day}T00:00:00`);
  start.setDate(start.getDate() + daysLater);
  return start.toISOString();
}

const FILTERS = ["patientId", "userId", "action", "since", "until"] as const;

/** The query of a link the API gave (`/api/audit?action=READ&page=2&size=20`). */
export function auditQueryOfLink(link: URL): AuditQuery {
  const parameters = link.searchParams;
  const query: AuditQuery = {};
  for (const name of FILTERS) {
    const value = parameters.get(name);
    if (value) query[name] = value;
  }
  const page = Number(parameters.get("page"));
  const size = Number(parameters.get("size"));
  if (Number.isInteger(page) && page > 0) query.page = page;
  if (Number.isInteger(size) && size > 0) query.size = size;
  return query;
}
