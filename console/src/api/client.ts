import createClient, { type Client } from "openapi-fetch";
import type { components as AuthComponents, paths as AuthPaths } from "./generated/auth";
import type { paths as AnalyticsPaths } from "./generated/analytics";
import type { paths as BillingPaths } from "./generated/billing";
import type {
  components as PatientsComponents,
  operations as PatientsOperations,
  paths as PatientsPaths,
} from "./generated/patients";

/** Every operation the gateway forwards, by its gateway path (`/api/...`, `/auth/...`). */
export type GatewayPaths = AuthPaths & PatientsPaths & BillingPaths & AnalyticsPaths;
export type ApiClient = Client<GatewayPaths>;
export type FetchFunction = (request: Request) => Promise<Response>;

export type Problem = AuthComponents["schemas"]["ProblemOut"];
export type TokenPair = AuthComponents["schemas"]["TokenPairOut"];
export type Patient = PatientsComponents["schemas"]["PatientOut"];
export type PatientQuery = NonNullable<
  PatientsOperations["list_patients_patients_get"]["parameters"]["query"]
>;
export type PatientSort = NonNullable<PatientQuery["sort"]>;

/** A client of the gateway at `baseUrl` (the console's own origin: no CORS) that sends
 * every request through `fetchFunction` (which adds the access token, see session.ts). */
export function createApiClient(
  fetchFunction: FetchFunction,
  baseUrl: string = window.location.origin,
): ApiClient {
  return createClient<GatewayPaths>({ baseUrl, fetch: fetchFunction });
}
