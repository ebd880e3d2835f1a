"""The JSON the reads encode straight from rows is byte for byte what ``PatientOut``
serialises to, and the page cache keeps the most recently used pages."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter

from pms_patients.page_cache import CachedPage, PageCache
from pms_patients.repository import PatientQuery
from pms_patients.schemas import PatientOut, patient_json, patients_json

ROWS: list[tuple[Any, ...]] = [
    (
        str(uuid.uuid4()),
        "Zoë Ørsted-Ñúñez",
        "zoe@example.com",
        'Flat 2, "The Mews"\\ back\tslash',
        date(1900, 1, 1),
        date(2024, 2, 29),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
        None,
        "PENDING",
    ),
    (
        str(uuid.uuid4()),
        "A" * 100,
        "a@b.co",
        "\u2028 line separator, emoji \U0001f600",
        date(1999, 12, 31),
        date(2000, 1, 1),
        datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 1, 23, 59, 59, 1, tzinfo=UTC),
        "ACC-1",
        "ACTIVE",
    ),
]
FIELDS = list(PatientOut.model_fields)


def as_models(rows: list[tuple[Any, ...]]) -> list[PatientOut]:
    return [PatientOut(**dict(zip(FIELDS, row, strict=True))) for row in rows]


def test_a_page_is_encoded_as_the_response_model_would_be() -> None:
    expected = TypeAdapter(list[PatientOut]).dump_json(as_models(ROWS), by_alias=True)
    assert patients_json(ROWS) == expected
    assert patients_json([]) == b"[]"


def test_one_patient_is_encoded_as_the_response_model_would_be_even_with_more_columns() -> None:
    [model] = as_models(ROWS[:1])
    assert patient_json((*ROWS[0], 7)) == model.model_dump_json(by_alias=True).encode()


def page(total: int) -> CachedPage:
    return CachedPage(revision=1, total=total, body=b"[]", patient_ids="{}")


def query(offset: int) -> PatientQuery:
    return PatientQuery(offset=offset, limit=50, search=None, sort="name")


def test_the_cache_drops_the_least_recently_used_page_first() -> None:
    cache = PageCache(capacity=2)
    cache.put(query(0), page(0))
    cache.put(query(50), page(50))
    assert cache.get(query(0)) == page(0)  # now the most recently used
    cache.put(query(100), page(100))
    assert cache.get(query(50)) is None
    assert cache.get(query(0)) == page(0)
    assert cache.get(query(100)) == page(100)


def test_a_page_put_again_replaces_the_one_before() -> None:
    cache = PageCache(capacity=2)
    cache.put(query(0), page(1))
    cache.put(query(0), page(2))
    assert cache.get(query(0)) == page(2)
