import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem } from "../test/fakeGateway";
import { renderSignedIn } from "../test/renderConsole";
import type { AuditEntry } from "../patients/AuditEntryRow";

const PATIENT = "0b6a3c9e-2f4e-4c55-9a43-2a1f6f5e7d10";

function entry(id: number, patientId: string, action = "READ"): AuditEntry {
  return {
    id, action, outcome: "OK", patientIds: [patientId], query: null, requestId: null,
    occurredAt: "2024-05-01T10:00:00Z", userEmail: "clinician@test.com", userId: "id-clinician", userRole: "CLINICIAN",
  };
}

/** `GET /api/audit` as the patients service answers it: filtered by patient and action,
 * 2 a page, with query-only links that keep the filters, and the total. */
function auditLog() {
  const entries = [entry(3, PATIENT), entry(2, "other"), entry(1, PATIENT, "CREATE")];
  return {
    "GET /auth/users": () => json([{ id: "id-clinician", email: "clinician@test.com", role: "CLINICIAN", disabled: false, createdAt: "", updatedAt: "" }]),
    "GET /api/audit": ({ url }: { url: URL }) => {
      const patientId = url.searchParams.get("patientId");
      if (patientId === "not-an-id") {
        return json({ status: 400, detail: "The request is not valid", errors: { patientId: "Input should be a valid UUID" } }, 400);
      }
      if (url.searchParams.get("action") === "DELETE") return problem(503, "The patients service is unavailable");
      const matching = entries.filter((item) => !patientId || item.patientIds.includes(patientId));
      const page = Number(url.searchParams.get("page") ?? 1);
      const last = Math.max(1, Math.ceil(matching.length / 2));
      const keep = patientId ? `patientId=${patientId}&` : "";
      const link = (n: number, rel: string) => `<?${keep}page=${n}&size=2>; rel="${rel}"`;
      const links = [link(1, "first"), link(last, "last"), ...(page < last ? [link(page + 1, "next")] : [])];
      return json(matching.slice((page - 1) * 2, page * 2), 200, { "X-Total-Count": String(matching.length), Link: links.join(", ") });
    },
  };
}

test("the audit log filters to one patient and pages by the API's links", async () => {
  const { gateway } = await renderSignedIn("ADMIN", auditLog(), "/administration/audit");
  const user = userEvent.setup();
  expect(await screen.findByText("Entries 1–2 of 3")).toBeInTheDocument();
  await user.click(screen.getByRole("button", { name: "Next page" }));
  expect(await screen.findByText("Entries 3–3 of 3")).toBeInTheDocument();

  await user.type(screen.getByLabelText("Patient id"), PATIENT);
  await user.click(screen.getByRole("button", { name: "Filter" }));
  expect(await screen.findByText("Entries 1–2 of 2")).toBeInTheDocument();
  const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
  expect(rows.map((row) => within(row).getAllByRole("cell")[2]?.textContent)).toEqual(["READ", "CREATE"]);
  expect(screen.getAllByRole("link", { name: `Patient ${PATIENT}` })).toHaveLength(2);
  expect(gateway.seen.at(-1)?.url.searchParams.get("patientId")).toBe(PATIENT);
  expect(gateway.seen.at(-1)?.url.searchParams.get("page")).toBe("1");
});

test("a refused filter is said beside its field, and a failure as a message", async () => {
  await renderSignedIn("ADMIN", auditLog(), "/administration/audit");
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Patient id"), "not-an-id");
  await user.click(screen.getByRole("button", { name: "Filter" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("The audit log could not be read");
  expect(screen.getByLabelText("Patient id")).toHaveAccessibleDescription("Input should be a valid UUID");
  await user.click(screen.getByRole("button", { name: "Clear" }));
  await user.selectOptions(screen.getByLabelText("Action"), "DELETE");
  await user.click(screen.getByRole("button", { name: "Filter" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("The patients service is unavailable");
});

test("filters nothing matches say so; Administration links its two pages", async () => {
  await renderSignedIn("ADMIN", auditLog(), "/administration");
  const user = userEvent.setup();
  const pages = screen.getByRole("navigation", { name: "Administration" });
  expect(within(pages).getByRole("link", { name: "Staff accounts" })).toHaveAttribute("aria-current", "page");
  await user.click(within(pages).getByRole("link", { name: "Audit log" }));
  await user.type(await screen.findByLabelText("Patient id"), "1b6a3c9e-2f4e-4c55-9a43-2a1f6f5e7d10");
  await user.click(screen.getByRole("button", { name: "Filter" }));
  expect(await screen.findByText("No access matches these filters.")).toBeInTheDocument();
  expect(within(pages).getByRole("link", { name: "Audit log" })).toHaveAttribute("aria-current", "page");
});
