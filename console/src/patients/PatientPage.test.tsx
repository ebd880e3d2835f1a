import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { POLL_INTERVAL_MS } from "../api/usePolledRead";
import { json, problem } from "../test/fakeGateway";
import { JANE, JANE_ID as ID } from "../test/patients";
import { renderSignedIn } from "../test/renderConsole";

const ACCOUNT = {
  id: "acc-1",
  patientId: ID,
  name: "Jane Doe",
  email: "jane@example.com",
  status: "ACTIVE",
  createdAt: "2024-01-10T09:00:00Z",
  closedAt: null,
};
const AUDIT = [
  {
    id: 7,
    action: "READ",
    outcome: "SUCCESS",
    occurredAt: "2024-01-11T10:00:00Z",
    patientIds: [ID],
    query: null,
    requestId: "r-1",
    userEmail: "clinician@test.com",
    userId: "u-1",
    userRole: "CLINICIAN",
  },
];

const routes = {
  [`GET /api/patients/${ID}`]: () => json(JANE),
  [`GET /api/billing/accounts/${ID}`]: () => json(ACCOUNT),
  [`GET /api/patients/${ID}/audit`]: () => json(AUDIT, 200, { "X-Total-Count": "1" }),
};

afterEach(() => {
  vi.useRealTimers();
});

test("a clinician sees the patient's details and billing status, and no audit trail", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", routes, `/patients/${ID}`);
  expect(await screen.findByRole("heading", { level: 1, name: "Jane Doe" })).toBeInTheDocument();
  expect(screen.getByText("jane@example.com")).toBeInTheDocument();
  expect(await screen.findByText("Account acc-1: ACTIVE")).toBeInTheDocument();
  expect(screen.queryByRole("heading", { name: "Audit trail" })).not.toBeInTheDocument();
  expect(gateway.seen.some((seen) => seen.url.pathname.endsWith("/audit"))).toBe(false);
});

test("an administrator sees the audit trail too", async () => {
  await renderSignedIn("ADMIN", routes, `/patients/${ID}`);
  expect(await screen.findByRole("heading", { name: "Audit trail" })).toBeInTheDocument();
  expect(await screen.findByText("clinician@test.com (CLINICIAN)")).toBeInTheDocument();
});

test("a patient without a billing account says so", async () => {
  await renderSignedIn(
    "CLINICIAN",
    { ...routes, [`GET /api/billing/accounts/${ID}`]: () => problem(404, "No account") },
    `/patients/${ID}`,
  );
  expect(await screen.findByText("No billing account yet.")).toBeInTheDocument();
});

test("an account opened after the page was shown appears without a reload", async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
  let opened = false;
  await renderSignedIn(
    "CLINICIAN",
    {
      ...routes,
      [`GET /api/billing/accounts/${ID}`]: () => (opened ? json(ACCOUNT) : problem(404, "No account")),
    },
    `/patients/${ID}`,
  );
  expect(await screen.findByText("No billing account yet.")).toBeInTheDocument();
  opened = true; // billing's retry opened it
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
  expect(await screen.findByText("Account acc-1: ACTIVE")).toBeInTheDocument();
  expect(screen.getByLabelText("Amount")).toBeInTheDocument();
});

test("an unknown patient is said to be unknown", async () => {
  await renderSignedIn("CLINICIAN", {}, `/patients/${ID}`);
  expect(await screen.findByRole("alert")).toHaveTextContent("There is no such patient.");
});

test("a name in the list opens the patient's page", async () => {
  await renderSignedIn(
    "CLINICIAN",
    { ...routes, "GET /api/patients": () => json([JANE], 200, { "X-Total-Count": "1" }) },
    "/patients",
  );
  await userEvent.setup().click(await screen.findByRole("link", { name: "Jane Doe" }));
  expect(window.location.pathname).toBe(`/patients/${ID}`);
  expect(await screen.findByRole("heading", { level: 1, name: "Jane Doe" })).toHaveFocus();
});
