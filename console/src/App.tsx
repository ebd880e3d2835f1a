import { useSessionState } from "./auth/SessionContext";
import { SignInPage } from "./auth/SignInPage";
import { ConsoleShell } from "./ConsoleShell";

/** Signed out: the sign-in page; signed in: the console for the user's role. */
export function App() {
  const session = useSessionState();
  if (session.status === "resuming") {
    return <p role="status">Resuming your session…</p>;
  }
  if (session.status === "signedOut") {
    return <SignInPage notice={session.notice} />;
  }
  return <ConsoleShell user={session.user} />;
}
