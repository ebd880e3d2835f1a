import { useEffect, useId, useRef, useState, type SyntheticEvent } from "react";
import { waitInWords } from "../api/problem";
import { useSessionStore } from "./SessionContext";

/** The sign-in form; `notice` says why a session ended, when it did. */
export function SignInPage({ notice }: { notice: string | null }) {
  const store = useSessionStore();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [waitSeconds, setWaitSeconds] = useState(0);
  const emailInput = useRef<HTMLInputElement>(null);
  const errorId = useId();

  useEffect(() => {
    emailInput.current?.focus();
  }, []);

  useEffect(() => {
    if (waitSeconds <= 0) {
      return undefined;
    }
    const tick = setTimeout(() => {
      setWaitSeconds((seconds) => seconds - 1);
    }, 1000);
    return () => {
      clearTimeout(tick);
    };
  }, [waitSeconds]);

  async function submit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    const result = await store.signIn(email.trim(), password);
    setBusy(false);
    if (!result.ok) {
      setFailure(result.message);
      setWaitSeconds(result.retryAfterSeconds ?? 0);
    }
  }

  const waiting = waitSeconds > 0;
  return (
    <main className="sign-in">
      <h1>PMS console</h1>
      <form onSubmit={(event) => void submit(event)} aria-describedby={failure ? errorId : undefined}>
        <h2>Sign in</h2>
        {notice && !failure && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="sign-in-email">Email</label>
        <input
          id="sign-in-email"
          ref={emailInput}
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => {
            setEmail(event.target.value);
          }}
        />
        <label htmlFor="sign-in-password">Password</label>
        <input
          id="sign-in-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => {
            setPassword(event.target.value);
          }}
        />
        {failure && (
          <p id={errorId} className="error" role="alert">
            {failure}
            {waiting && ` (${waitInWords(waitSeconds)} left)`}
          </p>
        )}
        <button type="submit" disabled={busy || waiting}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
