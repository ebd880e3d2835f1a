import { useState } from "react";
import { NO_REFUSAL, refusalOf, type Refusal } from "./refusal";

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** A write to the API from a form: `busy` while it is on its way, `refusal` when the API
 * (or the network) refused it. `send` resolves to the answer when it succeeded. */
export function useWrite() {
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<Refusal>(NO_REFUSAL);

  async function send<T>(request: () => Promise<Answer<T>>): Promise<Answer<T> | null> {
    setBusy(true);
    setRefusal(NO_REFUSAL);
    try {
      const answer = await request();
      if (answer.response.ok) {
        return answer;
      }
      setRefusal(refusalOf(answer.error, answer.response));
    } catch {
      setRefusal(refusalOf(undefined, undefined));
    } finally {
      setBusy(false);
    }
    return null;
  }

  return { busy, refusal, send };
}
