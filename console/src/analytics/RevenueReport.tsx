import { useCallback } from "react";
import type { components } from "../api/generated/analytics";
import type { ApiLoad } from "../api/useApiRead";
import { usePolledRead } from "../api/usePolledRead";
import { ReportStatus } from "./ReportStatus";
import { RevenueChart } from "./RevenueChart";
import type { ReportRange } from "./reportRange";

type Revenue = components["schemas"]["RevenueOut"];

/** Invoices issued, paid and voided over `range`, one chart a currency (amounts of two
 * currencies are not on one scale), refreshed while shown. */
export function RevenueReport({ range }: { range: ReportRange }) {
  const load = useCallback<ApiLoad<Revenue>>(
    (api, signal) => api.GET("/api/analytics/revenue", { params: { query: range }, signal }),
    [range],
  );
  const revenue = usePolledRead(load);
  return (
    <section aria-labelledby="analytics-revenue" className="report">
      <h2 id="analytics-revenue">Revenue by currency</h2>
      <ReportStatus read={revenue} what="the revenue" />
      {revenue.status === "loaded" && revenue.value.currencies.length === 0 && (
        <p>
          No invoice was issued, paid or voided from {revenue.value.from} to {revenue.value.to}.
        </p>
      )}
      {revenue.status === "loaded" &&
        revenue.value.currencies.map((currency) => (
          <section key={currency.currency} aria-label={`Revenue in ${currency.currency}`}>
            <h3>{currency.currency}</h3>
            <RevenueChart revenue={currency} granularity={revenue.value.granularity} />
          </section>
        ))}
    </section>
  );
}
