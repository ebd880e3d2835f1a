import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { SessionProvider } from "./auth/SessionContext";
import { SessionStore } from "./auth/session";
import "./styles.css";

const root = document.getElementById("root");
if (!root) {
  throw new Error("index.html has no #root");
}
const store = new SessionStore();
void store.resume();
createRoot(root).render(
  <StrictMode>
    <SessionProvider store={store}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
