"""All of the patients service's SQL, in two files by how it runs:

- :mod:`.sessions`: in the request's SQLAlchemy session (changes of patients, the billing
  state the retry worker claims, the audit log's pages);
- :mod:`.statements`: one statement at a time on a plain asyncpg connection, for the hot
  paths (the two reads with their audit entries, a patient's registration).
"""

from pms_patients.repository.sessions import (
    EMAIL_INDEX,
    AuditQuery,
    AuditRepository,
    DuplicateEmailError,
    PatientRepository,
    is_duplicate_email,
)
from pms_patients.repository.statements import (
    PATIENT_COLUMNS,
    AuditStamp,
    IdempotencyClaim,
    PageRows,
    PatientQuery,
    PatientReads,
    Registered,
    claimed_request,
    mark_billing_active_now,
    patient_count,
    patient_row,
    record_audit,
    register_patient,
)

__all__ = [
    "EMAIL_INDEX",
    "PATIENT_COLUMNS",
    "AuditQuery",
    "AuditRepository",
    "AuditStamp",
    "DuplicateEmailError",
    "IdempotencyClaim",
    "PageRows",
    "PatientQuery",
    "PatientReads",
    "PatientRepository",
    "Registered",
    "claimed_request",
    "is_duplicate_email",
    "mark_billing_active_now",
    "patient_count",
    "patient_row",
    "record_audit",
    "register_patient",
]
