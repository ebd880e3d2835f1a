import { useCallback, useState } from "react";
import type { components } from "../api/generated/analytics";
import type { ApiLoad } from "../api/useApiRead";
import { usePolledRead } from "../api/usePolledRead";
import { SelectField } from "../forms/SelectField";
import { RegistrationsChart } from "./RegistrationsChart";
import { ReportStatus } from "./ReportStatus";
import type { RegistrationBasis, ReportRange } from "./reportRange";

type Registrations = components["schemas"]["RegistrationsOut"];

const BASES: readonly { value: RegistrationBasis; label: string }[] = [
  { value: "registered", label: "the patient's registered date" },
  { value: "event", label: "the day the registration was recorded" },
];

/** Registrations over `range`, counted by the registered date or the day recorded,
 * refreshed while shown. */
export function RegistrationsReport({ range }: { range: ReportRange }) {
  const [by, setBy] = useState<RegistrationBasis>("registered");
  const load = useCallback<ApiLoad<Registrations>>(
    (api, signal) =>
      api.GET("/api/analytics/registrations", { params: { query: { ...range, by } }, signal }),
    [range, by],
  );
  const registrations = usePolledRead(load);
  return (
    <section aria-labelledby="analytics-registrations" className="report">
      <h2 id="analytics-registrations">Registrations</h2>
      <SelectField id="registrations-by" label="Count by" value={by} options={BASES} onChange={setBy} />
      <ReportStatus read={registrations} what="the registrations" />
      {registrations.status === "loaded" &&
        (registrations.value.total === 0 ? (
          <p>
            No patient was registered from {registrations.value.from} to {registrations.value.to}.
          </p>
        ) : (
          <RegistrationsChart report={registrations.value} />
        ))}
    </section>
  );
}
