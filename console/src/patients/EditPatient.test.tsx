import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem } from "../test/fakeGateway";
import { JANE, JANE_ID as ID } from "../test/patients";
import { renderSignedIn } from "../test/renderConsole";

function page(overrides: Record<string, () => Response> = {}) {
  let version = 3;
  let name = JANE.name;
  return {
    [`GET /api/patients/${ID}`]: () => json({ ...JANE, name }, 200, { ETag: `"${version}"` }),
    [`GET /api/billing/accounts/${ID}`]: () => problem(404, "No account"),
    [`GET /api/patients/${ID}/audit`]: () => json([]),
    [`PUT /api/patients/${ID}`]: () => {
      version += 1;
      name = "Jane Smith";
      return json({ ...JANE, name }, 200, { ETag: `"${version}"` });
    },
    ...overrides,
  };
}

async function rename(to: string) {
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Edit" }));
  const input = screen.getByLabelText("Name");
  await user.clear(input);
  await user.type(input, to);
  await user.click(screen.getByRole("button", { name: "Save" }));
  return user;
}

test("an edit is sent with If-Match of the version shown, and the page shows the change", async () => {
  const { gateway } = await renderSignedIn("CLINICIAN", page(), `/patients/${ID}`);
  await rename("Jane Smith");
  expect(await screen.findByRole("heading", { level: 1, name: "Jane Smith" })).toBeInTheDocument();
  const edit = gateway.seen.find((seen) => seen.method === "PUT");
  expect(edit?.ifMatch).toBe('"3"');
  expect(edit?.body).toMatchObject({ name: "Jane Smith", email: "jane@example.com" });
});

test("an edit of a patient changed meanwhile says so and offers to reload", async () => {
  await renderSignedIn(
    "CLINICIAN",
    page({ [`PUT /api/patients/${ID}`]: () => problem(412, "The patient was changed since") }),
    `/patients/${ID}`,
  );
  const user = await rename("Jane Smith");
  expect(await screen.findByRole("alert")).toHaveTextContent("Someone else changed this patient");
  await user.click(screen.getByRole("button", { name: "Reload" }));
  expect(await screen.findByRole("button", { name: "Edit" })).toBeInTheDocument();
});

test("only an administrator may delete, after confirming, and then sees the list", async () => {
  const routes = {
    ...page(),
    [`DELETE /api/patients/${ID}`]: () => new Response(null, { status: 204 }),
    "GET /api/patients": () => json([], 200, { "X-Total-Count": "0" }),
  };
  const clinician = await renderSignedIn("CLINICIAN", routes, `/patients/${ID}`);
  await screen.findByRole("button", { name: "Edit" });
  expect(screen.queryByRole("button", { name: "Delete patient" })).not.toBeInTheDocument();
  clinician.unmount();

  const { gateway } = await renderSignedIn("ADMIN", routes, `/patients/${ID}`);
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Delete patient" }));
  expect(screen.getByRole("alertdialog")).toHaveTextContent("Delete Jane Doe");
  expect(gateway.seen.some((seen) => seen.method === "DELETE")).toBe(false);
  await user.click(screen.getByRole("button", { name: "Delete" }));
  expect(await screen.findByText("No patients are registered yet.")).toBeInTheDocument();
  expect(gateway.seen.find((seen) => seen.method === "DELETE")?.ifMatch).toBe('"3"');
});
