"""Housekeeping of the platform's own bookkeeping tables: rows older than a retention
(sent outbox rows, processed-event keys) are deleted in small batches, at most once per
interval, by the worker that owns the table. A failed purge is logged and tried again
at the next interval: it never stops the worker.
"""

import time
from datetime import timedelta

from sqlalchemy import Column, Table, delete, func, select

from pms_platform.db import Database
from pms_platform.logging import get_logger

_log = get_logger("pms.retention")


class RetentionPurge:
    """Deletes rows of ``table`` whose ``stamp`` is older than ``retention``."""

    def __init__(
        self,
        database: Database,
        table: Table,
        *,
        key: Column[object],
        stamp: Column[object],
        retention: timedelta,
        interval_seconds: float,
        batch_size: int,
    ) -> None:
        self._database = database
        self._table = table
        self._key = key
        self._stamp = stamp
        self._retention = retention
        self._interval = interval_seconds
        self._batch_size = batch_size
        self._next_at = 0.0

    async def run_when_due(self) -> None:
        """One batch, unless the last one ran less than the interval ago."""
        if time.monotonic() < self._next_at:
            return
        self._next_at = time.monotonic() + self._interval
        old = (
            select(self._key)
            .where(self._stamp < func.now() - self._retention)
            .limit(self._batch_size)
            .scalar_subquery()
        )
        try:
            async with self._database.transaction() as session:
                await session.execute(delete(self._table).where(self._key.in_(old)))
        except Exception as error:  # housekeeping only: try again next interval
            _log.warning(
                "retention purge failed", table=self._table.name, error=type(error).__name__
            )
