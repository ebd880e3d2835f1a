import { useEffect, useState } from "react";
import { useSessionStore } from "../auth/SessionContext";
import { readApi, type ApiLoad, type ApiReadFailure } from "./useApiRead";

/** How often a polled read asks again while the page is shown. */
export const POLL_INTERVAL_MS = 5000;

export type PolledRead<T> =
  | { status: "loading" }
  /** `refreshFailure`: the latest read failed, and `value` is the one before it. */
  | { status: "loaded"; value: T; refreshFailure: ApiReadFailure | null }
  | ApiReadFailure;

/** What `load` reads from the API, read again `intervalMs` after each answer while the
 * page is visible (at once when it is shown again), never while it is hidden or after
 * the component is gone. A new `load` starts again from loading. */
export function usePolledRead<T>(load: ApiLoad<T>, intervalMs: number = POLL_INTERVAL_MS): PolledRead<T> {
  const { api } = useSessionStore();
  const [result, setResult] = useState<{ load: ApiLoad<T>; read: PolledRead<T> } | null>(null);

  useEffect(() => {
    let controller = new AbortController();
    let timer: number | undefined;
    const readNow = () => {
      window.clearTimeout(timer);
      controller.abort();
      const current = new AbortController();
      controller = current;
      void readApi(api, load, current.signal).then((read) => {
        if (!read || current.signal.aborted) {
          return;
        }
        setResult((previous) => ({ load, read: next(previous?.load === load ? previous.read : null, read) }));
        if (document.visibilityState === "visible") {
          timer = window.setTimeout(readNow, intervalMs);
        }
      });
    };
    const onVisibilityChange = () => {
      if (document.visibilityState === "visible") {
        readNow();
      } else {
        window.clearTimeout(timer);
      }
    };
    document.addEventListener("visibilitychange", onVisibilityChange);
    readNow();
    return () => {
      document.removeEventListener("visibilitychange", onVisibilityChange);
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [api, load, intervalMs]);

  return result?.load === load ? result.read : { status: "loading" };
}

function next<T>(
  previous: PolledRead<T> | null,
  read: { status: "loaded"; value: T } | ApiReadFailure,
): PolledRead<T> {
  if (read.status === "loaded") {
    return { status: "loaded", value: read.value, refreshFailure: null };
  }
  return previous?.status === "loaded" ? { ...previous, refreshFailure: read } : read;
}
