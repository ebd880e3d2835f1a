import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, type Seen } from "../test/fakeGateway";
import { renderSignedIn } from "../test/renderConsole";

const NEW_ID = "6f1c2b8e-0000-4000-8000-0000000000aa";

async function fillIn(fields: Record<string, string>) {
  const user = userEvent.setup();
  for (const [label, value] of Object.entries(fields)) {
    const input = screen.getByLabelText(label);
    await user.clear(input);
    await user.type(input, value);
  }
  return user;
}

const JANE = {
  Name: "Jane Doe",
  Email: "jane@example.com",
  Address: "1 Main Street",
  "Date of birth": "1985-06-15",
  Registered: "2024-01-10",
};

function registrations(seen: Seen[]) {
  return seen.filter((request) => request.method === "POST" && request.url.pathname === "/api/patients");
}

test("a refused registration shows each field's message beside it, focused", async () => {
  await renderSignedIn(
    "CLINICIAN",
    {
      "POST /api/patients": () =>
        json(
          {
            status: 400,
            detail: "The request is not valid",
            errors: { dateOfBirth: "Date of birth cannot be in the future" },
          },
          400,
        ),
    },
    "/patients/new",
  );
  const user = await fillIn({ ...JANE, "Date of birth": "2999-01-01" });
  await user.click(screen.getByRole("button", { name: "Register" }));
  const dateOfBirth = screen.getByLabelText("Date of birth");
  expect(await screen.findByText("Date of birth cannot be in the future")).toBeInTheDocument();
  expect(dateOfBirth).toHaveAttribute("aria-invalid", "true");
  expect(dateOfBirth).toHaveAccessibleDescription("Date of birth cannot be in the future");
  expect(dateOfBirth).toHaveFocus();
  expect(screen.getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
});

test("a duplicate email is shown on the email field", async () => {
  await renderSignedIn(
    "CLINICIAN",
    {
      "POST /api/patients": () =>
        json(
          { status: 409, detail: "Email address already exists", errors: { email: "Email address already exists" } },
          409,
        ),
    },
    "/patients/new",
  );
  const user = await fillIn(JANE);
  await user.click(screen.getByRole("button", { name: "Register" }));
  expect(await screen.findByLabelText("Email")).toHaveAccessibleDescription("Email address already exists");
});

test("a registration opens the new patient's page; the same body twice carries one key", async () => {
  const { gateway } = await renderSignedIn(
    "CLINICIAN",
    {
      "POST /api/patients": () => json({ id: NEW_ID }, 201),
      [`GET /api/patients/${NEW_ID}`]: () => json({ id: NEW_ID, name: "Jane Doe" }),
    },
    "/patients/new",
  );
  const user = await fillIn(JANE);
  await user.click(screen.getByRole("button", { name: "Register" }));
  expect(await screen.findByRole("heading", { level: 1, name: "Jane Doe" })).toBeInTheDocument();
  expect(window.location.pathname).toBe(`/patients/${NEW_ID}`);
  const [registration] = registrations(gateway.seen);
  expect(registration?.body).toEqual({
    name: "Jane Doe",
    email: "jane@example.com",
    address: "1 Main Street",
    dateOfBirth: "1985-06-15",
    registeredDate: "2024-01-10",
  });
  expect(registration?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
});
