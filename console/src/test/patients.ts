import type { Patient } from "../api/client";

export const JANE_ID = "6f1c2b8e-0000-4000-8000-000000000001";

/** A patient as `GET /api/patients/{id}` answers it. */
export const JANE: Patient = {
  id: JANE_ID,
  name: "Jane Doe",
  email: "jane@example.com",
  address: "1 Main Street",
  dateOfBirth: "1985-06-15",
  registeredDate: "2024-01-10",
  createdAt: "2024-01-10T09:00:00Z",
  updatedAt: "2024-01-10T09:00:00Z",
  billingAccountId: "acc-1",
  billingStatus: "ACTIVE",
};
