import type { ApiReadFailure } from "../api/useApiRead";
import type { PolledRead } from "../api/usePolledRead";

/** What a polled report says beside its figures: that it is loading, why it could not
 * be read, or that its latest refresh failed (the figures shown are the ones before). */
export function ReportStatus({ read, what }: { read: PolledRead<unknown>; what: string }) {
  if (read.status === "loading") {
    return <p role="status">Loading {what}…</p>;
  }
  if (read.status === "failed") {
    return (
      <p className="error" role="alert">
        {capitalised(what)} could not be read: {failureText(read)}
      </p>
    );
  }
  if (read.refreshFailure) {
    return (
      <p className="notice" role="alert">
        {capitalised(what)} could not be refreshed: {failureText(read.refreshFailure)} The figures
        shown are the last ones read.
      </p>
    );
  }
  return null;
}

/** The problem's detail, with its field messages when it has some (a range too long). */
function failureText(failure: ApiReadFailure): string {
  const fields = Object.values(failure.errors);
  return fields.length > 0 ? `${failure.message}: ${fields.join("; ")}.` : failure.message;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
