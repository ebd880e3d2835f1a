"""Auditing refused and failed requests: :class:`FailureAudit` writes the audit entry of a
request that ended in a domain error (404, 409, 412...), with the error as its outcome.

It takes the :class:`~pms_platform.db.Database` because it owns its transaction: the
request's own transaction rolls back with the error, and the audit entry written in it
with it, so the failure is recorded in a transaction of its own.
"""

import uuid
from dataclasses import dataclass, field

from pms_patients.repository import AuditRepository
from pms_patients.service import audit_entry
from pms_platform.db import Database
from pms_platform.security import Principal


@dataclass
class AuditedAction:
    """What a request is about, filled in by its route, so that a refused or failed
    request is audited too (an empty ``action`` audits nothing)."""

    action: str = ""
    patient_ids: list[uuid.UUID] = field(default_factory=list)


class FailureAudit:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, actor: Principal, attempt: AuditedAction, outcome: str) -> None:
        """Commit the audit entry of ``attempt`` with ``outcome`` (``NOT-FOUND``...)."""
        if not attempt.action:
            return
        entry = audit_entry(actor, attempt.action, list(attempt.patient_ids), outcome=outcome)
        async with self.database.transaction() as session:
            await AuditRepository(session).record(entry)
