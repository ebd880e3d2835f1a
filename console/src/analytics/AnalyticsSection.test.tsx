import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { POLL_INTERVAL_MS } from "../api/usePolledRead";
import { json, problem, type Seen } from "../test/fakeGateway";
import { renderSignedIn } from "../test/renderConsole";

const SUMMARY = {
  patients: { active: 14, created: 15, updated: 2, deleted: 1 },
  billing: {
    accountsOpen: 14,
    accountsClosed: 1,
    invoicesIssued: 3,
    invoicesPaid: 2,
    invoicesVoided: 0,
    amounts: [
      { currency: "EUR", issuedCount: 3, issuedMinor: 37500, paidCount: 2, paidMinor: 25000, voidedCount: 0, voidedMinor: 0 },
    ],
  },
};
const FIGURES = { issuedCount: 0, issuedMinor: 0, paidCount: 0, paidMinor: 0, voidedCount: 0, voidedMinor: 0 };

/** `GET /api/analytics/registrations` over the asked range: two periods with `counts`. */
function registrations(counts: [number, number]) {
  return ({ url }: Seen) => {
    const query = url.searchParams;
    const from = query.get("from") ?? "2026-11-01";
    const to = query.get("to") ?? "2026-11-02";
    const buckets = [
      { start: from, end: from, count: counts[0] },
      { start: to, end: to, count: counts[1] },
    ];
    const granularity = query.get("granularity") ?? "day";
    const by = query.get("by") ?? "registered";
    return json({ from, to, granularity, by, total: counts[0] + counts[1], buckets });
  };
}

function revenue({ url }: Seen): Response {
  const from = url.searchParams.get("from") ?? "";
  const to = url.searchParams.get("to") ?? "";
  const bucket = { ...FIGURES, start: from, end: to, issuedCount: 1, issuedMinor: 12500, paidCount: 1, paidMinor: 12500 };
  const eur = { ...FIGURES, currency: "EUR", issuedCount: 1, issuedMinor: 12500, paidCount: 1, paidMinor: 12500, buckets: [bucket] };
  return json({ from, to, granularity: url.searchParams.get("granularity"), currency: null, currencies: [eur] });
}

const routes = {
  "GET /api/analytics/summary": () => json(SUMMARY),
  "GET /api/analytics/registrations": registrations([2, 3]),
  "GET /api/analytics/revenue": revenue,
};

function requestsTo(seen: Seen[], report: string): URLSearchParams[] {
  return seen.filter(({ url }) => url.pathname === `/api/analytics/${report}`).map(({ url }) => url.searchParams);
}

function figure(label: string): string | null | undefined {
  return screen.getByText(label, { selector: "dt" }).nextElementSibling?.textContent;
}

afterEach(() => {
  vi.useRealTimers();
});

test("an analyst sees the summary, amounts in the currency's format", async () => {
  await renderSignedIn("ANALYST", routes, "/analytics");
  await screen.findByText("Patients registered");
  expect(figure("Patients registered")).toBe("15");
  expect(figure("Invoices paid")).toBe("2");
  expect(figure("Paid in EUR")).toBe("€250.00 of €375.00 issued");
});

test("the charts' figures are their text alternative", async () => {
  await renderSignedIn("ANALYST", routes, "/analytics");
  const registrationsChart = await screen.findByRole("img", { name: /^Registrations per day/ });
  expect(registrationsChart).toHaveAccessibleName(/: 5 in total, most in .+ \(3\)\.$/);
  const table = screen.getByRole("table", { name: /^Registrations per day/ });
  expect(within(table).getAllByRole("row").map((row) => row.lastChild?.textContent)).toEqual(["Registrations", "2", "3"]);

  const revenueChart = await screen.findByRole("img", { name: /^Revenue in EUR per day/ });
  expect(revenueChart).toHaveAccessibleName(/€125\.00 issued \(1 invoice\), €125\.00 paid \(1\), €0\.00 voided \(0\)/);
  const revenueTable = screen.getByRole("table", { name: "Revenue in EUR per day" });
  expect(within(revenueTable).getByRole("cell", { name: "€0.00 (0)" })).toBeInTheDocument();
});

test("the first reports are of the last 30 days by day, the API's own default", async () => {
  const { gateway } = await renderSignedIn("ANALYST", routes, "/analytics");
  await screen.findByRole("img", { name: /^Registrations/ });
  const [query] = requestsTo(gateway.seen, "registrations");
  const from = Date.parse(query?.get("from") ?? "");
  const to = Date.parse(query?.get("to") ?? "");
  expect((to - from) / 86_400_000).toBe(29);
  expect(query?.get("granularity")).toBe("day");
  expect(query?.get("by")).toBe("registered");
});

test("the date range, the granularity and the basis change what is asked", async () => {
  const { gateway } = await renderSignedIn("ANALYST", routes, "/analytics");
  await screen.findByRole("img", { name: /^Registrations/ });
  fireEvent.change(screen.getByLabelText("From"), { target: { value: "2025-01-01" } });
  fireEvent.change(screen.getByLabelText("To"), { target: { value: "2025-06-30" } });
  await userEvent.setup().selectOptions(screen.getByLabelText("Per"), "month");
  await screen.findByRole("img", { name: /^Registrations per month, 2025-01-01 to 2025-06-30/ });
  for (const report of ["registrations", "revenue"]) {
    const last = requestsTo(gateway.seen, report).at(-1);
    expect([last?.get("from"), last?.get("to"), last?.get("granularity")]).toEqual(["2025-01-01", "2025-06-30", "month"]);
  }
  await userEvent.setup().selectOptions(screen.getByLabelText("Count by"), "event");
  await waitFor(() => {
    expect(requestsTo(gateway.seen, "registrations").at(-1)?.get("by")).toBe("event");
  });
});

test("a first day after the last is said beside it and not asked for", async () => {
  const { gateway } = await renderSignedIn("ANALYST", routes, "/analytics");
  await screen.findByRole("img", { name: /^Registrations/ });
  const asked = requestsTo(gateway.seen, "registrations").length;
  fireEvent.change(screen.getByLabelText("From"), { target: { value: "2999-01-01" } });
  expect(screen.getByLabelText("From")).toHaveAccessibleDescription("Must not be after the last day");
  expect(requestsTo(gateway.seen, "registrations")).toHaveLength(asked);
});

test("polling shows new registrations, and stops while the page is hidden", async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
  let counts: [number, number] = [2, 3];
  const { gateway } = await renderSignedIn(
    "ANALYST",
    { ...routes, "GET /api/analytics/registrations": (seen: Seen) => registrations(counts)(seen) },
    "/analytics",
  );
  await screen.findByRole("img", { name: /: 5 in total/ });
  counts = [2, 4];
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
  expect(await screen.findByRole("img", { name: /: 6 in total/ })).toBeInTheDocument();

  const visibility = vi.spyOn(document, "visibilityState", "get").mockReturnValue("hidden");
  act(() => {
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS)); // a read begun before may end
  const asked = requestsTo(gateway.seen, "registrations").length;
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3));
  expect(requestsTo(gateway.seen, "registrations")).toHaveLength(asked);

  counts = [2, 5];
  visibility.mockReturnValue("visible");
  act(() => {
    document.dispatchEvent(new Event("visibilitychange"));
  });
  expect(await screen.findByRole("img", { name: /: 7 in total/ })).toBeInTheDocument();
});

test("leaving the section stops its polling", async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
  const { gateway } = await renderSignedIn("ADMIN", { ...routes, "GET /api/patients": () => json([], 200) }, "/analytics");
  await screen.findByRole("img", { name: /^Registrations/ });
  const analyticsReads = () => gateway.seen.filter(({ url }) => url.pathname.startsWith("/api/analytics")).length;
  fireEvent.click(screen.getByRole("link", { name: "Patients" }));
  await screen.findByRole("heading", { level: 1, name: "Patients" });
  const asked = analyticsReads();
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS * 3));
  expect(analyticsReads()).toBe(asked);
});

test("a report the API fails to answer says why, the others are shown", async () => {
  await renderSignedIn(
    "ANALYST",
    { ...routes, "GET /api/analytics/revenue": () => problem(503, "The analytics service is not reachable") },
    "/analytics",
  );
  expect(await screen.findByRole("alert")).toHaveTextContent(
    "The revenue could not be read: The analytics service is not reachable",
  );
  expect(await screen.findByRole("img", { name: /^Registrations/ })).toBeInTheDocument();
});

test("a range too long for its granularity shows the API's field message", async () => {
  const tooLong = () =>
    json(
      {
        type: "about:blank",
        title: "Bad Request",
        status: 400,
        detail: "The report parameters are not valid",
        errors: { to: "The range is too long for day granularity: at most 366 days" },
        requestId: "r",
      },
      400,
    );
  await renderSignedIn("ANALYST", { ...routes, "GET /api/analytics/registrations": tooLong }, "/analytics");
  expect(await screen.findByRole("alert")).toHaveTextContent(
    "The registrations could not be read: The report parameters are not valid: The range is too long for day granularity: at most 366 days.",
  );
});

test("a refresh that fails keeps the figures read before and says so", async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
  let up = true;
  await renderSignedIn(
    "ANALYST",
    { ...routes, "GET /api/analytics/summary": () => (up ? json(SUMMARY) : problem(503, "Down for a moment")) },
    "/analytics",
  );
  await screen.findByText("Patients registered");
  up = false;
  await act(() => vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS));
  expect(await screen.findByRole("alert")).toHaveTextContent(
    "The summary could not be refreshed: Down for a moment The figures shown are the last ones read.",
  );
  expect(figure("Patients registered")).toBe("15");
});

test("nothing recorded yet is an empty state in each report", async () => {
  const none = { ...SUMMARY, patients: { active: 0, created: 0, updated: 0, deleted: 0 } };
  const empty = { ...none, billing: { ...none.billing, invoicesIssued: 0, invoicesPaid: 0, amounts: [] } };
  const noRevenue = ({ url }: Seen) =>
    json({ from: url.searchParams.get("from"), to: url.searchParams.get("to"), granularity: "day", currency: null, currencies: [] });
  await renderSignedIn(
    "ANALYST",
    {
      "GET /api/analytics/summary": () => json(empty),
      "GET /api/analytics/registrations": registrations([0, 0]),
      "GET /api/analytics/revenue": noRevenue,
    },
    "/analytics",
  );
  expect(await screen.findByText("No patient has been registered and no invoice issued yet.")).toBeInTheDocument();
  expect(await screen.findByText(/^No patient was registered from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\.$/)).toBeInTheDocument();
  expect(await screen.findByText(/^No invoice was issued, paid or voided from /)).toBeInTheDocument();
  expect(screen.queryByRole("img")).not.toBeInTheDocument();
});
