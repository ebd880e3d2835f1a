import { useCallback, useState } from "react";
import type { components } from "../api/generated/billing";
import { ReadList } from "../api/ReadList";
import { useApiRead, type ApiLoad } from "../api/useApiRead";
import { InvoiceActions } from "./InvoiceActions";
import { IssueInvoiceForm } from "./IssueInvoiceForm";
import { formatMoney } from "./money";

type InvoicePage = components["schemas"]["InvoicePageOut"];

const PAGE_SIZE = 50;

/** The patient's invoices, newest first, with issue, pay and void. */
export function PatientInvoices({ patientId }: { patientId: string }) {
  const [generation, setGeneration] = useState(0);
  const load = useCallback<ApiLoad<InvoicePage>>(
    (api, signal) =>
      api.GET("/api/billing/accounts/{patientId}/invoices", {
        params: { path: { patientId }, query: { pageSize: PAGE_SIZE } },
        signal,
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- generation: to read again
    [patientId, generation],
  );
  const page = useApiRead(load);
  const reload = () => {
    setGeneration((count) => count + 1);
  };
  return (
    <section aria-labelledby="patient-invoices">
      <h3 id="patient-invoices">Invoices</h3>
      <ReadList read={page} subject="the invoices" items={(value) => value.invoices} empty="No invoices yet.">
        {(invoices) => (
          <table className="invoices">
            <thead>
              <tr>
                <th scope="col">Description</th>
                <th scope="col">Amount</th>
                <th scope="col">Status</th>
                <th scope="col">Issued</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {invoices.map((invoice) => (
                <tr key={invoice.id}>
                  <td>{invoice.description || "—"}</td>
                  <td>{formatMoney(invoice.amountMinor, invoice.currency)}</td>
                  <td>
                    {invoice.status}
                    {invoice.voidReason ? ` (${invoice.voidReason})` : ""}
                  </td>
                  <td>{invoice.issuedAt ? new Date(invoice.issuedAt).toLocaleDateString() : "—"}</td>
                  <td>
                    <InvoiceActions invoice={invoice} onChanged={reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ReadList>
      <IssueInvoiceForm patientId={patientId} onIssued={reload} />
    </section>
  );
}
