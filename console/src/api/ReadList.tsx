import type { ReactNode } from "react";
import type { ApiRead } from "./useApiRead";

interface Props<T, Item> {
  read: ApiRead<T>;
  /** What is listed, as in a sentence: "the invoices". */
  subject: string;
  /** The listed items of what was read (the value itself when it is an array). */
  items: (value: T) => readonly Item[];
  /** Said when the list is empty. */
  empty: string;
  /** The list itself, once it has items. */
  children: (items: readonly Item[], value: T) => ReactNode;
}

/** A list read from the API, or what keeps it from being shown: still loading (said to
 * screen readers), why it failed (an alert), or that it is empty. */
export function ReadList<T, Item>({ read, subject, items, empty, children }: Props<T, Item>) {
  if (read.status === "loading") {
    return <p role="status">Loading {subject}…</p>;
  }
  if (read.status === "failed") {
    return (
      <p className="error" role="alert">
        {subject.charAt(0).toUpperCase() + subject.slice(1)} could not be read: {read.message}
      </p>
    );
  }
  const listed = items(read.value);
  return listed.length === 0 ? <p>{empty}</p> : <>{children(listed, read.value)}</>;
}
