import { useEffect, useState } from "react";
import { useSessionStore } from "../auth/SessionContext";
import type { ApiClient } from "./client";
import { problemMessage } from "./problem";

export type ApiRead<T> =
  | { status: "loading" }
  | { status: "loaded"; value: T; etag: string | null }
  | { status: "failed"; httpStatus: number | null; message: string };

export type ApiLoad<T> = (
  api: ApiClient,
  signal: AbortSignal,
) => Promise<{ data?: T; error?: unknown; response: Response }>;

/** What `load` reads from the API, read again when `load` changes (callers keep it in
 * `useCallback`); an older read is cancelled, so it never replaces a newer one. */
export function useApiRead<T>(load: ApiLoad<T>): ApiRead<T> {
  const { api } = useSessionStore();
  const [result, setResult] = useState<{ load: ApiLoad<T>; read: ApiRead<T> } | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    load(api, controller.signal)
      .then(({ data, error, response }) => {
        const read: ApiRead<T> =
          data === undefined
            ? { status: "failed", httpStatus: response.status, message: problemMessage(error, response) }
            : { status: "loaded", value: data, etag: response.headers.get("ETag") };
        setResult({ load, read });
      })
      .catch(() => {
        if (!controller.signal.aborted) {
          const message = problemMessage(undefined, undefined);
          setResult({ load, read: { status: "failed", httpStatus: null, message } });
        }
      });
    return () => {
      controller.abort();
    };
  }, [api, load]);

  return result?.load === load ? result.read : { status: "loading" };
}
