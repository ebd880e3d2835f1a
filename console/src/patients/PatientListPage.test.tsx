import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Patient } from "../api/client";
import { json, problem, type Seen } from "../test/fakeGateway";
import { renderSignedIn } from "../test/renderConsole";

function patient(number: number): Patient {
  return {
    id: `00000000-0000-0000-0000-${String(number).padStart(12, "0")}`,
    name: `Patient ${number}`,
    email: `patient${number}@test.com`,
    address: `${number} High Street`,
    dateOfBirth: "1980-01-01",
    registeredDate: "2024-05-01",
    createdAt: "2024-05-01T00:00:00Z",
    updatedAt: "2024-05-01T00:00:00Z",
    billingAccountId: null,
    billingStatus: "ACTIVE",
  };
}

/** `GET /api/patients` as the API answers it: 45 patients, pages of the asked size, a
 * Link header of query-only references and X-Total-Count. */
function patientsApi({ url }: Seen): Response {
  const page = Number(url.searchParams.get("page") ?? 1);
  const size = Number(url.searchParams.get("size") ?? 50);
  const total = 45;
  const last = Math.ceil(total / size);
  const kept = new URLSearchParams(url.searchParams);
  const link = (relation: string, number: number) => {
    kept.set("page", String(number));
    return `<?${kept.toString()}>; rel="${relation}"`;
  };
  const links = [link("first", 1), link("last", last)];
  if (page > 1) links.push(link("prev", page - 1));
  if (page < last) links.push(link("next", page + 1));
  const rows = Array.from({ length: Math.min(size, total - (page - 1) * size) }, (_, index) =>
    patient((page - 1) * size + index + 1),
  );
  return json(rows, 200, { "X-Total-Count": String(total), Link: links.join(", ") });
}

function listRequests(seen: Seen[]): URLSearchParams[] {
  return seen.filter((request) => request.url.pathname === "/api/patients").map((request) => request.url.searchParams);
}

test("the first page is listed with the total, sorted by name", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", { "GET /api/patients": patientsApi }, "/patients");
  expect(await screen.findByRole("status")).toHaveTextContent("Patients 1–20 of 45");
  expect(screen.getAllByRole("row")).toHaveLength(21);
  expect(screen.getByRole("columnheader", { name: /Name/ })).toHaveAttribute("aria-sort", "ascending");
  expect(listRequests(gateway.seen)[0]?.toString()).toBe("sort=name&page=1&size=20");
});

test("typing a search sends one request when the typing pauses", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", { "GET /api/patients": patientsApi }, "/patients");
  await screen.findByText("Patients 1–20 of 45");
  const search = screen.getByLabelText("Search by name or email");
  for (const typed of ["a", "an", "ann"]) {
    fireEvent.change(search, { target: { value: typed } });
  }
  await waitFor(() => {
    expect(listRequests(gateway.seen)).toHaveLength(2);
  });
  expect(listRequests(gateway.seen)[1]?.get("search")).toBe("ann");
});

test("a column heading sorts by it, then the other way", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", { "GET /api/patients": patientsApi }, "/patients");
  await screen.findByText("Patients 1–20 of 45");
  const user = userEvent.setup();
  await user.click(screen.getByRole("button", { name: /Date of birth/ }));
  await waitFor(() => {
    expect(listRequests(gateway.seen).at(-1)?.get("sort")).toBe("dateOfBirth");
  });
  await user.click(screen.getByRole("button", { name: /Date of birth/ }));
  await waitFor(() => {
    expect(listRequests(gateway.seen).at(-1)?.get("sort")).toBe("-dateOfBirth");
  });
  expect(screen.getByRole("columnheader", { name: /Date of birth/ })).toHaveAttribute("aria-sort", "descending");
});

test("the pager follows the API's links to the next and the last page", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", { "GET /api/patients": patientsApi }, "/patients");
  await screen.findByText("Patients 1–20 of 45");
  const pager = screen.getByRole("navigation", { name: "Pages of patients" });
  expect(within(pager).getByRole("button", { name: "Previous page" })).toBeDisabled();
  expect(within(pager).getByRole("button", { name: "First page" })).toBeDisabled();
  const user = userEvent.setup();
  await user.click(within(pager).getByRole("button", { name: "Next page" }));
  expect(await screen.findByText("Patients 21–40 of 45")).toBeInTheDocument();
  await user.click(within(pager).getByRole("button", { name: "Last page" }));
  expect(await screen.findByText("Patients 41–45 of 45")).toBeInTheDocument();
  expect(within(pager).getByRole("button", { name: "Next page" })).toBeDisabled();
  expect(within(pager).getByRole("button", { name: "Last page" })).toBeDisabled();
  expect(within(pager).getByText("Page 3 of 3")).toBeInTheDocument();
  expect(listRequests(gateway.seen).map((query) => query.get("page"))).toEqual(["1", "2", "3"]);
});

test("no patient is an empty state that names the search", async () => {
  await renderSignedIn(
    "CLINICIAN",
    { "GET /api/patients": () => json([], 200, { "X-Total-Count": "0" }) },
    "/patients",
  );
  fireEvent.change(await screen.findByLabelText("Search by name or email"), { target: { value: "zed" } });
  expect(await screen.findByText("No patient matches “zed”.")).toBeInTheDocument();
  expect(screen.queryByRole("table")).not.toBeInTheDocument();
});

test("a failed list shows the problem's detail", async () => {
  await renderSignedIn(
    "CLINICIAN",
    { "GET /api/patients": () => problem(503, "The patients service is not reachable") },
    "/patients",
  );
  expect(await screen.findByRole("alert")).toHaveTextContent(
    "The patients could not be listed: The patients service is not reachable",
  );
});
