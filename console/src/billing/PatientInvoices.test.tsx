import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem, type Seen } from "../test/fakeGateway";
import { JANE, JANE_ID } from "../test/patients";
import { renderSignedIn } from "../test/renderConsole";
import type { Invoice } from "./InvoiceActions";

function invoice(overrides: Partial<Invoice>): Invoice {
  return {
    id: "inv-1",
    accountId: "acc-1",
    patientId: JANE_ID,
    amountMinor: 12550,
    currency: "EUR",
    description: "Consultation",
    status: "ISSUED",
    createdAt: "2024-02-01T10:00:00Z",
    issuedAt: "2024-02-01T10:00:00Z",
    paidAt: null,
    paymentId: null,
    voidedAt: null,
    voidReason: null,
    ...overrides,
  };
}

/** Billing as the API keeps it: invoices that issue, pay (once per key) and void. */
function billing(start: Invoice[] = []) {
  const invoices = [...start];
  const paidWith = new Map<string, string>();
  const find = (url: URL) => invoices.find((item) => url.pathname.includes(item.id));
  return {
    [`GET /api/patients/${JANE_ID}`]: () => json(JANE, 200, { ETag: '"1"' }),
    [`GET /api/patients/${JANE_ID}/audit`]: () => json([]),
    [`GET /api/billing/accounts/${JANE_ID}`]: () =>
      json({ id: "acc-1", patientId: JANE_ID, name: JANE.name, email: JANE.email, status: "ACTIVE", createdAt: "", closedAt: null }),
    [`GET /api/billing/accounts/${JANE_ID}/invoices`]: () => json({ invoices, nextPageToken: null }),
    [`POST /api/billing/accounts/${JANE_ID}/invoices`]: ({ body }: Seen) => {
      const created = invoice({ id: `inv-${invoices.length + 1}`, ...(body as Partial<Invoice>) });
      invoices.unshift(created);
      return json(created, 201);
    },
    "POST /api/billing/invoices/inv-1/pay": ({ url, idempotencyKey }: Seen) => {
      const target = find(url);
      if (!target || !idempotencyKey) return problem(400, "No key");
      if (target.status === "PAID" && paidWith.get(target.id) !== idempotencyKey) {
        return problem(409, "The invoice is paid already");
      }
      paidWith.set(target.id, idempotencyKey);
      target.status = "PAID";
      return json(target);
    },
    "POST /api/billing/invoices/inv-1/void": ({ url, body }: Seen) => {
      const target = find(url);
      if (!target) return problem(404, "No invoice");
      target.status = "VOID";
      target.voidReason = (body as { reason: string }).reason;
      return json(target);
    },
  };
}

function requests(seen: Seen[], path: string): Seen[] {
  return seen.filter((request) => request.method === "POST" && request.url.pathname === path);
}

test("a patient's invoices are listed with amounts in their currency's format", async () => {
  await renderSignedIn("CLINICIAN", billing([invoice({}), invoice({ id: "inv-2", amountMinor: 1200, currency: "JPY", status: "PAID" })]), `/patients/${JANE_ID}`);
  const table = await screen.findByRole("table");
  expect(within(table).getByText("€125.50")).toBeInTheDocument();
  expect(within(table).getByText("¥1,200")).toBeInTheDocument();
});

test("an invoice is issued in the chosen currency, in minor units", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", billing(), `/patients/${JANE_ID}`);
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Amount"), "80.25");
  await user.selectOptions(screen.getByLabelText("Currency"), "USD");
  await user.type(screen.getByLabelText("Description"), "X-ray");
  await user.click(screen.getByRole("button", { name: "Issue invoice" }));
  expect(await screen.findByText("$80.25")).toBeInTheDocument();
  expect(requests(gateway.seen, `/api/billing/accounts/${JANE_ID}/invoices`)[0]?.body).toEqual({
    amountMinor: 8025,
    currency: "USD",
    description: "X-ray",
    draft: false,
  });
});

test("an amount that is not one is refused beside the field, before any request", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", billing(), `/patients/${JANE_ID}`);
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Amount"), "12.345");
  await user.click(screen.getByRole("button", { name: "Issue invoice" }));
  expect(screen.getByLabelText("Amount")).toHaveAccessibleDescription("Enter a positive amount in EUR");
  expect(requests(gateway.seen, `/api/billing/accounts/${JANE_ID}/invoices`)).toHaveLength(0);
});

test("a double click on Pay pays once: every payment request carries the same key", async () => {
  const { gateway } = await renderSignedIn("ADMIN", billing([invoice({})]), `/patients/${JANE_ID}`);
  const user = userEvent.setup();
  await user.dblClick(await screen.findByRole("button", { name: "Pay" }));
  await waitFor(() => {
    expect(screen.getByRole("table")).toHaveTextContent("PAID");
  });
  const payments = requests(gateway.seen, "/api/billing/invoices/inv-1/pay");
  expect(payments.length).toBeGreaterThanOrEqual(1);
  expect(new Set(payments.map((payment) => payment.idempotencyKey)).size).toBe(1);
  expect(screen.queryByRole("alert")).not.toBeInTheDocument();
});

test("an invoice is voided with the reason given", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", billing([invoice({})]), `/patients/${JANE_ID}`);
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Void" }));
  await user.type(screen.getByLabelText("Reason"), "Billed twice");
  await user.click(screen.getByRole("button", { name: "Void invoice" }));
  expect(await screen.findByText("VOID (Billed twice)")).toBeInTheDocument();
  expect(requests(gateway.seen, "/api/billing/invoices/inv-1/void")[0]?.body).toEqual({ reason: "Billed twice" });
});
