import type { PatientQuery, PatientSort } from "../api/client";

export const PAGE_SIZE = 20;

// Each sortable column, ascending and (with "-") descending.
const SORTS: readonly string[] = ["name", "email", "dateOfBirth", "registeredDate"].flatMap(
  (column) => [column, `-${column}`],
);

/** The first page of a search in an order. */
export function firstPage(search: string, sort: PatientSort): PatientQuery {
  const term = search.trim();
  return { ...(term ? { search: term } : {}), sort, page: 1, size: PAGE_SIZE };
}

/** The query of a link the API gave (`/api/patients?search=a&page=2&size=20`). */
export function queryOfLink(link: URL): PatientQuery {
  const parameters = link.searchParams;
  const query: PatientQuery = {};
  const search = parameters.get("search");
  const sort = parameters.get("sort");
  const page = Number(parameters.get("page"));
  const size = Number(parameters.get("size"));
  if (search) query.search = search;
  if (sort && SORTS.includes(sort)) query.sort = sort as PatientSort;
  if (Number.isInteger(page) && page > 0) query.page = page;
  if (Number.isInteger(size) && size > 0) query.size = size;
  return query;
}
