import { useEffect, useState } from "react";
import { useSessionStore } from "../auth/SessionContext";
import type { ApiClient } from "./client";
import { isProblem, problemMessage } from "./problem";

export type ApiRead<T> =
  | { status: "loading" }
  | { status: "loaded"; value: T; etag: string | null }
  | ApiReadFailure;

export interface ApiReadFailure {
  status: "failed";
  httpStatus: number | null;
  message: string;
  /** The problem's field messages (a 400's `errors`), empty for any other failure. */
  errors: Record<string, string>;
}

export type ApiLoad<T> = (
  api: ApiClient,
  signal: AbortSignal,
) => Promise<{ data?: T; error?: unknown; response: Response }>;

/** One read of `load`: what it answered, or why it failed; null once `signal` aborted it. */
export async function readApi<T>(
  api: ApiClient,
  load: ApiLoad<T>,
  signal: AbortSignal,
): Promise<Exclude<ApiRead<T>, { status: "loading" }> | null> {
  try {
    const { data, error, response } = await load(api, signal);
    if (data !== undefined) {
      return { status: "loaded", value: data, etag: response.headers.get("ETag") };
    }
    const errors = isProblem(error) ? (error.errors ?? {}) : {};
    return { status: "failed", httpStatus: response.status, message: problemMessage(error, response), errors };
  } catch {
    if (signal.aborted) {
      return null;
    }
    return { status: "failed", httpStatus: null, message: problemMessage(undefined, undefined), errors: {} };
  }
}

/** What `load` reads from the API, read again when `load` changes (callers keep it in
 * `useCallback`); an older read is cancelled, so it never replaces a newer one. */
export function useApiRead<T>(load: ApiLoad<T>): ApiRead<T> {
  const { api } = useSessionStore();
  const [result, setResult] = useState<{ load: ApiLoad<T>; read: ApiRead<T> } | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    void readApi(api, load, controller.signal).then((read) => {
      if (read && !controller.signal.aborted) {
        setResult({ load, read });
      }
    });
    return () => {
      controller.abort();
    };
  }, [api, load]);

  return result?.load === load ? result.read : { status: "loading" };
}
