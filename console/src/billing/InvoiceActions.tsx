import { useRef, useState } from "react";
import type { components } from "../api/generated/billing";
import { newIdempotencyKey } from "../api/idempotencyKey";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";

export type Invoice = components["schemas"]["InvoiceOut"];

const OPEN = new Set(["DRAFT", "ISSUED"]);

/** Pay (an ISSUED invoice) or void with a reason (an open one); `onChanged` after. */
export function InvoiceActions({ invoice, onChanged }: { invoice: Invoice; onChanged: () => void }) {
  const { api } = useSessionStore();
  const payment = useWrite();
  const voiding = useWrite();
  // One key for this invoice's payment: a double click, or a retry after a lost answer,
  // is the same payment, and the invoice is paid once.
  const paymentKey = useRef(newIdempotencyKey());
  const [askingReason, setAskingReason] = useState(false);
  const [reason, setReason] = useState("");

  async function pay() {
    const key = paymentKey.current;
    const answer = await payment.send(() =>
      api.POST("/api/billing/invoices/{invoiceId}/pay", {
        params: { path: { invoiceId: invoice.id }, header: { "Idempotency-Key": key } },
      }),
    );
    if (answer) onChanged();
  }

  async function voidInvoice() {
    const answer = await voiding.send(() =>
      api.POST("/api/billing/invoices/{invoiceId}/void", {
        params: { path: { invoiceId: invoice.id } },
        body: { reason },
      }),
    );
    if (answer) onChanged();
  }

  if (!OPEN.has(invoice.status)) {
    return null;
  }
  const failure = payment.refusal.message || voiding.refusal.message;
  const reasonId = `void-reason-${invoice.id}`;
  return (
    <div className="invoice-actions">
      {invoice.status === "ISSUED" && (
        <button type="button" disabled={payment.busy} onClick={() => void pay()}>
          Pay
        </button>
      )}
      {!askingReason ? (
        <button
          type="button"
          onClick={() => {
            setAskingReason(true);
          }}
        >
          Void
        </button>
      ) : (
        <span className="void-reason">
          <label htmlFor={reasonId}>Reason</label>
          <input
            id={reasonId}
            value={reason}
            maxLength={500}
            autoFocus
            onChange={(event) => {
              setReason(event.target.value);
            }}
          />
          <button type="button" disabled={voiding.busy} onClick={() => void voidInvoice()}>
            Void invoice
          </button>
        </span>
      )}
      {failure && (
        <span className="error" role="alert">
          {failure}
        </span>
      )}
    </div>
  );
}
