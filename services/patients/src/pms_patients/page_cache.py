"""Pages of patients kept in memory as the JSON they were sent as, each with the
revision of the table it was read at (see migration 0004).

A cached page is only served after the database confirmed, in the very statement that
writes the read's audit entry, that the revision has not moved: a read that starts
after a change was committed, on any instance, never gets a page from before it.
"""

from collections import OrderedDict
from dataclasses import dataclass

from pms_patients.repository import PatientQuery

DEFAULT_CAPACITY = 128
"""About 2 MB for 128 default pages of 50 patients."""


@dataclass(frozen=True)
class CachedPage:
    revision: int
    total: int
    body: bytes
    patient_ids: str
    """The page's ids as a PostgreSQL array literal (``{id,id,...}``), made once: encoding
    50 UUIDs for every audit entry cost about 40 us of CPU per cached read, the literal
    (cast by the server) none."""


class PageCache:
    """The most recently served pages by query, at most ``capacity`` (least recently
    used dropped first). One event loop uses it: no locking."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._pages: OrderedDict[PatientQuery, CachedPage] = OrderedDict()

    def get(self, query: PatientQuery) -> CachedPage | None:
        page = self._pages.get(query)
        if page is not None:
            self._pages.move_to_end(query)
        return page

    def put(self, query: PatientQuery, page: CachedPage) -> None:
        self._pages[query] = page
        self._pages.move_to_end(query)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)
