import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Role } from "./auth/claims";
import { json } from "./test/fakeGateway";
import { renderSignedIn } from "./test/renderConsole";

const patients = { "GET /api/patients": () => json([], 200, { "X-Total-Count": "0" }) };

function sectionLinks(): string[] {
  const navigation = screen.getByRole("navigation", { name: "Sections" });
  return within(navigation)
    .getAllByRole("link")
    .map((link) => link.textContent);
}

test.each<[Role, string[]]>([
  ["CLINICIAN", ["Patients"]],
  ["ANALYST", ["Analytics"]],
  ["ADMIN", ["Patients", "Analytics", "Administration"]],
])("%s sees exactly the sections of the role", async (role, sections) => {
  await renderSignedIn(role, patients);
  expect(sectionLinks()).toEqual(sections);
  await screen.findByRole("heading", { level: 1 });
});

test("the console opens at the role's first section", async () => {
  await renderSignedIn("ANALYST");
  expect(window.location.pathname).toBe("/analytics");
  expect(screen.getByRole("link", { name: "Analytics" })).toHaveAttribute("aria-current", "page");
});

test("a section of another role is not found, not shown", async () => {
  await renderSignedIn("ANALYST", {}, "/administration");
  expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Page not found");
});

test("following a section link moves there and focuses its heading", async () => {
  await renderSignedIn("ADMIN", patients);
  await screen.findByText("No patients are registered yet.");
  await userEvent.setup().click(screen.getByRole("link", { name: "Administration" }));
  expect(window.location.pathname).toBe("/administration");
  expect(screen.getByRole("heading", { level: 1, name: "Administration" })).toHaveFocus();
});

test("signing out returns to the sign-in form", async () => {
  await renderSignedIn("CLINICIAN", { ...patients, "POST /auth/logout": () => new Response(null, { status: 204 }) });
  await screen.findByText("No patients are registered yet.");
  await userEvent.setup().click(screen.getByRole("button", { name: "Sign out" }));
  expect(await screen.findByRole("heading", { name: "Sign in" })).toBeInTheDocument();
});
