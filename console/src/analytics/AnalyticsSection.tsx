import { Component, lazy, Suspense, type ReactNode } from "react";

// The charts' library is large: it is loaded with the section, not with the console.
const AnalyticsReports = lazy(() =>
  import("./AnalyticsReports").then((module) => ({ default: module.AnalyticsReports })),
);

/** Analytics (ANALYST, ADMIN): its heading at once, its reports when their code is loaded. */
export function AnalyticsSection() {
  return (
    <>
      <h1 tabIndex={-1}>Analytics</h1>
      <ReportsLoadFailure>
        <Suspense fallback={<p role="status">Loading the analytics…</p>}>
          <AnalyticsReports />
        </Suspense>
      </ReportsLoadFailure>
    </>
  );
}

/** A failure to load the reports' code (the console was updated, the network is down)
 * said as such, instead of a blank page. */
class ReportsLoadFailure extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override render() {
    if (this.state.failed) {
      return (
        <p className="error" role="alert">
          The analytics could not be loaded. Check the connection and reload the page.
        </p>
      );
    }
    return this.props.children;
  }
}
