import { useState } from "react";
import { POLL_INTERVAL_MS } from "../api/usePolledRead";
import { AnalyticsSummary } from "./AnalyticsSummary";
import { RegistrationsReport } from "./RegistrationsReport";
import { ReportRangeForm } from "./ReportRangeForm";
import { RevenueReport } from "./RevenueReport";
import { defaultRange } from "./reportRange";
import "./analytics.css";

/** The analytics: the summary, then registrations and revenue over a chosen range (the
 * charting library comes with this module, loaded when the section is first opened). */
export function AnalyticsReports() {
  const [range, setRange] = useState(defaultRange);
  return (
    <>
      <p className="list-status">
        The figures are read again every {POLL_INTERVAL_MS / 1000} seconds while this page is shown.
      </p>
      <AnalyticsSummary />
      <ReportRangeForm initialRange={range} onChange={setRange} />
      <RegistrationsReport range={range} />
      <RevenueReport range={range} />
    </>
  );
}
