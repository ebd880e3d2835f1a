import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem, type Seen } from "../test/fakeGateway";
import { renderSignedIn } from "../test/renderConsole";
import type { StaffAccount } from "./StaffAccountRow";

function account(email: string, role: StaffAccount["role"], disabled = false): StaffAccount {
  return { id: `id-${email.split("@")[0] ?? email}`, email, role, disabled, createdAt: "2024-01-01T00:00:00Z", updatedAt: "2024-01-01T00:00:00Z" };
}

/** Auth's user management as it behaves: the last enabled ADMIN stays one. */
function users() {
  const accounts = [account("testuser@test.com", "ADMIN"), account("clinician@test.com", "CLINICIAN")];
  const byPath = (url: URL) => accounts.find((item) => url.pathname.includes(item.id));
  return {
    "GET /auth/users": () => json(accounts, 200, { "X-Total-Count": String(accounts.length) }),
    "POST /auth/users": ({ body }: Seen) => {
      const { email, password, role } = body as { email: string; password: string; role: StaffAccount["role"] };
      if (password.length < 8) {
        return json({ status: 400, detail: "The request is not valid", errors: { password: "Password must be at least 8 characters" } }, 400);
      }
      accounts.push(account(email, role));
      return json(accounts.at(-1), 201);
    },
    "PATCH /auth/users/id-clinician": ({ url, body }: Seen) => {
      const target = byPath(url);
      if (!target) return problem(404, "User not found");
      Object.assign(target, body);
      return json(target);
    },
    "PATCH /auth/users/id-testuser": () => problem(409, "At least one enabled administrator must remain"),
    "POST /auth/users/id-clinician/password": () => new Response(null, { status: 204 }),
  };
}

function sent(seen: Seen[], method: string, path: string) {
  return seen.filter((request) => request.method === method && request.url.pathname === path).map((request) => request.body);
}

test("an administrator sees the staff accounts with their roles", async () => {
  await renderSignedIn("ADMIN", users(), "/administration");
  expect(await screen.findByRole("cell", { name: "clinician@test.com" })).toBeInTheDocument();
  expect(screen.getByLabelText("Role of clinician@test.com")).toHaveValue("CLINICIAN");
});

test("a new account's refused password is shown beside it; accepted, the account is listed", async () => {
  const { gateway } = await renderSignedIn("ADMIN", users(), "/administration");
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Email"), "nurse@test.com");
  await user.type(screen.getByLabelText("Password"), "short");
  await user.selectOptions(screen.getByLabelText("Role"), "ANALYST");
  await user.click(screen.getByRole("button", { name: "Create account" }));
  expect(await screen.findByLabelText("Password")).toHaveAccessibleDescription("Password must be at least 8 characters");
  await user.type(screen.getByLabelText("Password"), "-but-longer");
  await user.click(screen.getByRole("button", { name: "Create account" }));
  expect(await screen.findByRole("cell", { name: "nurse@test.com" })).toBeInTheDocument();
  expect(sent(gateway.seen, "POST", "/auth/users").at(-1)).toEqual({
    email: "nurse@test.com",
    password: "short-but-longer",
    role: "ANALYST",
  });
});

test("a role is changed and an account disabled", async () => {
  const { gateway } = await renderSignedIn("ADMIN", users(), "/administration");
  const user = userEvent.setup();
  await user.selectOptions(await screen.findByLabelText("Role of clinician@test.com"), "ANALYST");
  await waitFor(() => {
    expect(screen.getByLabelText("Role of clinician@test.com")).toHaveValue("ANALYST");
  });
  await user.click(screen.getByRole("button", { name: "Disable clinician@test.com" }));
  expect(await screen.findByRole("button", { name: "Enable clinician@test.com" })).toBeInTheDocument();
  expect(sent(gateway.seen, "PATCH", "/auth/users/id-clinician")).toEqual([{ role: "ANALYST" }, { disabled: true }]);
});

test("disabling the last administrator shows the API's refusal", async () => {
  await renderSignedIn("ADMIN", users(), "/administration");
  await userEvent.setup().click(await screen.findByRole("button", { name: "Disable testuser@test.com" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("At least one enabled administrator must remain");
});

test("a new password is set for an account", async () => {
  const { gateway } = await renderSignedIn("ADMIN", users(), "/administration");
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Set password of clinician@test.com" }));
  await user.type(screen.getByLabelText("New password for clinician@test.com"), "a-new-password");
  await user.click(screen.getByRole("button", { name: "Save password" }));
  await waitFor(() => {
    expect(screen.queryByLabelText("New password for clinician@test.com")).not.toBeInTheDocument();
  });
  expect(sent(gateway.seen, "POST", "/auth/users/id-clinician/password")).toEqual([{ password: "a-new-password" }]);
});
