import { isProblem, problemMessage } from "./problem";

/** A refused write, as a form shows it: the message for the whole form and the API's
 * message per field (problem+json `errors`). */
export interface Refusal {
  status: number | null;
  message: string;
  fieldErrors: Record<string, string>;
}

export function refusalOf(error: unknown, response: Response | undefined): Refusal {
  return {
    status: response?.status ?? null,
    message: problemMessage(error, response),
    fieldErrors: isProblem(error) ? (error.errors ?? {}) : {},
  };
}

export const NO_REFUSAL: Refusal = { status: null, message: "", fieldErrors: {} };
