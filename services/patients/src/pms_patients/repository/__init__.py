"""All of the patients service's SQL, in two files by how it runs:

- :mod:`.sessions`: in an SQLAlchemy session (the billing state the retry worker claims,
  the audit log's pages);
- :mod:`.statements`: one statement at a time on a plain asyncpg connection, for the hot
  paths (the two reads with their audit entries, a patient's registration);
- :mod:`.changes`: a patient's update or removal on a plain connection, in the caller's
  transaction (the row locked, then one statement with the event and audit entry).
"""

from pms_patients.repository.changes import (
    EMAIL_INDEX,
    DuplicateEmailError,
    remove_patient,
    save_patient_details,
)
from pms_patients.repository.sessions import AuditQuery, AuditRepository, PatientRepository
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
    "mark_billing_active_now",
    "patient_count",
    "patient_row",
    "record_audit",
    "register_patient",
    "remove_patient",
    "save_patient_details",
]
