/** The search field: a name or an email, or part of one. */
export function PatientSearch({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <div className="search">
      <label htmlFor="patient-search">Search by name or email</label>
      <input
        id="patient-search"
        type="search"
        value={value}
        maxLength={100}
        autoComplete="off"
        onChange={(event) => {
          onChange(event.target.value);
        }}
      />
    </div>
  );
}
