import { useEffect, useState } from "react";
import type { Patient, PatientQuery } from "../api/client";
import { linksOfAnswer } from "../api/links";
import { problemMessage } from "../api/problem";
import { useSessionStore } from "../auth/SessionContext";

export interface Loaded {
  status: "loaded";
  page: number;
  patients: Patient[];
  total: number;
  links: Record<string, URL>;
}

export type PatientPage =
  | Loaded
  | { status: "loading"; previous: Loaded | null }
  | { status: "failed"; message: string };

type Outcome = Loaded | { status: "failed"; message: string };

/** One page of `GET /api/patients` for `query`: its rows, the `X-Total-Count` and the
 * `Link` header's targets resolved against the URL asked for. While a new query loads,
 * the last page loaded stays shown; a newer query cancels the request of an older one,
 * so a slow answer never replaces a newer one. */
export function usePatientPage(query: PatientQuery): PatientPage {
  const { api } = useSessionStore();
  const [result, setResult] = useState<{ query: PatientQuery; outcome: Outcome } | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const settle = (outcome: Outcome) => {
      setResult({ query, outcome });
    };
    api
      .GET("/api/patients", { params: { query }, signal: controller.signal })
      .then(({ data, error, response }) => {
        if (!data) {
          settle({ status: "failed", message: problemMessage(error, response) });
          return;
        }
        const total = Number(response.headers.get("X-Total-Count") ?? data.length);
        const links = linksOfAnswer(response, "/api/patients");
        settle({ status: "loaded", page: query.page ?? 1, patients: data, total, links });
      })
      .catch(() => {
        if (!controller.signal.aborted) {
          settle({ status: "failed", message: problemMessage(undefined, undefined) });
        }
      });
    return () => {
      controller.abort();
    };
  }, [api, query]);

  if (result?.query === query) {
    return result.outcome;
  }
  return { status: "loading", previous: result?.outcome.status === "loaded" ? result.outcome : null };
}
