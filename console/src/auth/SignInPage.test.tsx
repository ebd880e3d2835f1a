import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, problem, tokenPair } from "../test/fakeGateway";
import { renderConsole } from "../test/renderConsole";

async function signIn(password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Email"), "clinician@test.com");
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

test("the sign-in form starts at the email field", () => {
  renderConsole();
  expect(screen.getByLabelText("Email")).toHaveFocus();
});

test("a wrong password shows the API's message", async () => {
  renderConsole({ "POST /auth/login": () => problem(401, "Invalid email or password") });
  await signIn("wrong");
  expect(await screen.findByRole("alert")).toHaveTextContent("Invalid email or password");
});

test("a locked-out sign-in shows the wait and disables the button meanwhile", async () => {
  renderConsole({ "POST /auth/login": () => problem(429, "Too many", { "Retry-After": "60" }) });
  await signIn("wrong");
  expect(await screen.findByRole("alert")).toHaveTextContent(
    "Too many sign-in attempts. Try again in 60 seconds.",
  );
  expect(screen.getByRole("button", { name: "Sign in" })).toBeDisabled();
});

test("a successful sign-in opens the console, and a session ended by auth comes back here with why", async () => {
  const { store } = renderConsole({
    "POST /auth/login": () => json(tokenPair("ANALYST")),
    "POST /auth/session/refresh": () => problem(401, "The refresh token is not valid"),
  });
  await signIn("password123");
  expect(await screen.findByRole("button", { name: "Sign out" })).toBeInTheDocument();
  await act(() => store.renew());
  expect(screen.getByRole("status")).toHaveTextContent("Your session has ended");
});
