import type { Patient } from "../api/client";

export function PatientDetails({ patient }: { patient: Patient }) {
  const fields: [string, string][] = [
    ["Email", patient.email],
    ["Address", patient.address],
    ["Date of birth", patient.dateOfBirth],
    ["Registered", patient.registeredDate],
    ["Billing status", patient.billingStatus],
  ];
  return (
    <section aria-labelledby="patient-details">
      <h2 id="patient-details">Details</h2>
      <dl className="details">
        {fields.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
