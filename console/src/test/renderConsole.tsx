import { act, render } from "@testing-library/react";
import { App } from "../App";
import { SessionProvider } from "../auth/SessionContext";
import { SessionStore } from "../auth/session";
import type { Role } from "../auth/claims";
import { fakeGateway, json, tokenPair } from "./fakeGateway";

type Routes = Parameters<typeof fakeGateway>[0];

/** The whole console against a fake gateway, at `path`. */
export function renderConsole(routes: Routes = {}, path = "/") {
  window.history.replaceState(null, "", path);
  const gateway = fakeGateway(routes);
  const store = new SessionStore(gateway.fetch, "http://console.test");
  const view = render(
    <SessionProvider store={store}>
      <App />
    </SessionProvider>,
  );
  return { ...view, store, gateway };
}

/** The console signed in as `role` (the login answered by the fake gateway). */
export async function renderSignedIn(role: Role, routes: Routes = {}, path = "/") {
  const rendered = renderConsole({ "POST /auth/login": () => json(tokenPair(role)), ...routes }, path);
  await act(() => rendered.store.signIn(`${role.toLowerCase()}@test.com`, "password123"));
  return rendered;
}
