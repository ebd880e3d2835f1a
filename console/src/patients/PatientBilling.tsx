import { useCallback } from "react";
import type { components } from "../api/generated/billing";
import type { ApiLoad } from "../api/useApiRead";
import { usePolledRead } from "../api/usePolledRead";
import { PatientInvoices } from "../billing/PatientInvoices";

type Account = components["schemas"]["AccountOut"];

/** The patient's billing account: its status and invoices, or that there is none yet.
 * Read again every few seconds while the page is shown: an account that billing could not
 * open at registration is opened by a retry later, and appears here without a reload. */
export function PatientBilling({ patientId }: { patientId: string }) {
  const load = useCallback<ApiLoad<Account>>(
    (api, signal) =>
      api.GET("/api/billing/accounts/{patientId}", { params: { path: { patientId } }, signal }),
    [patientId],
  );
  const account = usePolledRead(load);
  return (
    <section aria-labelledby="patient-billing">
      <h2 id="patient-billing">Billing</h2>
      {account.status === "loading" && <p role="status">Loading the billing account…</p>}
      {account.status === "failed" &&
        (account.httpStatus === 404 ? (
          <p>No billing account yet.</p>
        ) : (
          <p className="error" role="alert">
            The billing account could not be read: {account.message}
          </p>
        ))}
      {account.status === "loaded" && (
        <>
          <p>
            Account {account.value.id}: {account.value.status}
          </p>
          <PatientInvoices patientId={patientId} />
        </>
      )}
    </section>
  );
}
