import type { components } from "../api/generated/analytics";
import type { ApiLoad } from "../api/useApiRead";
import { usePolledRead } from "../api/usePolledRead";
import { formatMoney } from "../billing/money";
import { ReportStatus } from "./ReportStatus";

type Summary = components["schemas"]["SummaryOut"];

// A module's constant: the same load on every render, so the read is not restarted.
const loadSummary: ApiLoad<Summary> = (api, signal) => api.GET("/api/analytics/summary", { signal });

/** The running totals of patients, accounts and invoices, refreshed while shown. */
export function AnalyticsSummary() {
  const summary = usePolledRead(loadSummary);
  return (
    <section aria-labelledby="analytics-summary" className="report">
      <h2 id="analytics-summary">Summary</h2>
      <ReportStatus read={summary} what="the summary" />
      {summary.status === "loaded" && <SummaryFigures summary={summary.value} />}
    </section>
  );
}

function SummaryFigures({ summary: { patients, billing } }: { summary: Summary }) {
  const figures: [string, number][] = [
    ["Active patients", patients.active],
    ["Patients registered", patients.created],
    ["Patients updated", patients.updated],
    ["Patients deleted", patients.deleted],
    ["Open billing accounts", billing.accountsOpen],
    ["Closed billing accounts", billing.accountsClosed],
    ["Invoices issued", billing.invoicesIssued],
    ["Invoices paid", billing.invoicesPaid],
    ["Invoices voided", billing.invoicesVoided],
  ];
  return (
    <>
      {patients.created === 0 && billing.invoicesIssued === 0 && (
        <p>No patient has been registered and no invoice issued yet.</p>
      )}
      <dl className="figures-list">
        {figures.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value.toLocaleString()}</dd>
          </div>
        ))}
        {billing.amounts.map((amounts) => (
          <div key={amounts.currency}>
            <dt>Paid in {amounts.currency}</dt>
            <dd>
              {formatMoney(amounts.paidMinor, amounts.currency)} of{" "}
              {formatMoney(amounts.issuedMinor, amounts.currency)} issued
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}
