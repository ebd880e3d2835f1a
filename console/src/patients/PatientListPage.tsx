import { useMemo, useState } from "react";
import type { PatientQuery, PatientSort } from "../api/client";
import { InternalLink } from "../nav/InternalLink";
import { PatientPager } from "./PatientPager";
import { PatientSearch } from "./PatientSearch";
import { PatientTable } from "./PatientTable";
import { firstPage, queryOfLink } from "./patientQuery";
import { useDebouncedValue } from "./useDebouncedValue";
import { usePatientPage } from "./usePatientPage";

export const SEARCH_DELAY_MS = 300;

/** Patients: searched as you type, sorted by a column, paged by the API's links. */
export function PatientListPage() {
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState<PatientSort>("name");
  const settledSearch = useDebouncedValue(search, SEARCH_DELAY_MS);
  const first = useMemo(() => firstPage(settledSearch, sort), [settledSearch, sort]);
  // The page a link led to, for the search and order it was followed in: a new search
  // or order starts again from its first page.
  const [followed, setFollowed] = useState<{ from: PatientQuery; query: PatientQuery } | null>(
    null,
  );
  const query = followed?.from === first ? followed.query : first;
  const page = usePatientPage(query);

  const shown = page.status === "loaded" ? page : page.status === "loading" ? page.previous : null;
  return (
    <>
      <h1 tabIndex={-1}>Patients</h1>
      <p>
        <InternalLink href="/patients/new">Register a patient</InternalLink>
      </p>
      <PatientSearch value={search} onChange={setSearch} />
      {page.status === "failed" && (
        <p className="error" role="alert">
          The patients could not be listed: {page.message}
        </p>
      )}
      <p className="list-status" role="status" aria-live="polite">
        {page.status === "loading" && "Loading patients…"}
        {page.status === "loaded" && page.total === 0 && emptyMessage(query.search)}
        {page.status === "loaded" && page.total > 0 && rangeMessage(query, page.patients.length, page.total)}
      </p>
      {shown && shown.patients.length > 0 && (
        <>
          <PatientTable
            patients={shown.patients}
            sort={sort}
            onSort={setSort}
            busy={page.status === "loading"}
          />
          <PatientPager
            page={shown.page}
            links={shown.links}
            onFollow={(link) => {
              setFollowed({ from: first, query: queryOfLink(link) });
            }}
          />
        </>
      )}
    </>
  );
}

function emptyMessage(search: string | null | undefined): string {
  return search ? `No patient matches “${search}”.` : "No patients are registered yet.";
}

function rangeMessage(query: PatientQuery, rows: number, total: number): string {
  const first = ((query.page ?? 1) - 1) * (query.size ?? rows) + 1;
  return `Patients ${first}–${first + rows - 1} of ${total}`;
}
