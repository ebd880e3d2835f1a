import { useState, type SyntheticEvent } from "react";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";
import { CURRENCIES, toMinorUnits, type OfferedCurrency } from "./money";

/** Bill the patient an amount in a currency; `onIssued` after the API's 201. */
export function IssueInvoiceForm({ patientId, onIssued }: { patientId: string; onIssued: () => void }) {
  const { api } = useSessionStore();
  const { busy, refusal, send } = useWrite();
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState<OfferedCurrency>("EUR");
  const [description, setDescription] = useState("");
  const [amountError, setAmountError] = useState<string | null>(null);

  async function issue(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    const amountMinor = toMinorUnits(amount, currency);
    if (amountMinor === null) {
      setAmountError(`Enter a positive amount in ${currency}`);
      return;
    }
    setAmountError(null);
    const answer = await send(() =>
      api.POST("/api/billing/accounts/{patientId}/invoices", {
        params: { path: { patientId } },
        body: { amountMinor, currency, description, draft: false },
      }),
    );
    if (answer) {
      setAmount("");
      setDescription("");
      onIssued();
    }
  }

  const shownAmountError = amountError ?? refusal.fieldErrors.amountMinor;
  return (
    <form className="invoice-form" noValidate onSubmit={(event) => void issue(event)}>
      <h3>Issue an invoice</h3>
      {refusal.message && !shownAmountError && (
        <p className="error" role="alert">
          The invoice was not issued: {refusal.message}
        </p>
      )}
      <div className="field">
        <label htmlFor="invoice-amount">Amount</label>
        <input
          id="invoice-amount"
          inputMode="decimal"
          value={amount}
          aria-invalid={shownAmountError ? true : undefined}
          aria-describedby={shownAmountError ? "invoice-amount-error" : undefined}
          onChange={(event) => {
            setAmount(event.target.value);
          }}
        />
        {shownAmountError && (
          <span id="invoice-amount-error" className="field-error">
            {shownAmountError}
          </span>
        )}
      </div>
      <div className="field">
        <label htmlFor="invoice-currency">Currency</label>
        <select
          id="invoice-currency"
          value={currency}
          onChange={(event) => {
            setCurrency(event.target.value as OfferedCurrency);
          }}
        >
          {CURRENCIES.map((code) => (
            <option key={code}>{code}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="invoice-description">Description</label>
        <input
          id="invoice-description"
          value={description}
          maxLength={500}
          onChange={(event) => {
            setDescription(event.target.value);
          }}
        />
      </div>
      <button type="submit" disabled={busy}>
        Issue invoice
      </button>
    </form>
  );
}
