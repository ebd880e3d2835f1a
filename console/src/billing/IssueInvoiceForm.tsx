import { useState, type SyntheticEvent } from "react";
import { useWrite } from "../api/useWrite";
import { useSessionStore } from "../auth/SessionContext";
import { TextField } from "../forms/TextField";
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
      <TextField
        id="invoice-amount"
        label="Amount"
        inputMode="decimal"
        value={amount}
        error={shownAmountError}
        onChange={setAmount}
      />
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
      <TextField
        id="invoice-description"
        label="Description"
        maxLength={500}
        value={description}
        onChange={setDescription}
      />
      <button type="submit" disabled={busy}>
        Issue invoice
      </button>
    </form>
  );
}
