"""``read-100k``: the scratch database's name guard and seed statement, the scratch
service's settings (no database or service needed)."""

import re

import pytest

from pms_cli.bench.scale import scratch_environment
from pms_cli.bench.scale_db import (
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    SCRATCH_DATABASE,
    SEARCH_TERM,
    STREETS,
    ScratchDatabaseError,
    check_scratch_name,
    seed_sql,
)


def test_the_scratch_database_is_never_a_services_own() -> None:
    assert check_scratch_name(SCRATCH_DATABASE) == "pms_patients_bench_100k"
    for name in ("pms_patients", "pms_auth", "pms_billing", "pms_analytics", "scratch"):
        with pytest.raises(ScratchDatabaseError):
            check_scratch_name(name)


def test_the_seed_is_one_insert_over_generate_series_with_every_column() -> None:
    sql = seed_sql(100_000)
    assert sql.startswith("INSERT INTO patients (")
    assert sql.count("INSERT") == 1
    assert "generate_series(1::bigint, 100000)" in sql
    columns = re.search(r"INSERT INTO patients \(([^)]*)\)", sql)
    assert columns is not None
    assert [c.strip() for c in columns[1].split(",")] == [
        "id",
        "name",
        "email",
        "address",
        "date_of_birth",
        "registered_date",
        "created_at",
        "updated_at",
        "version",
        "billing_account_id",
        "billing_status",
        "billing_attempts",
        "billing_next_attempt_at",
    ]
    assert "'ACTIVE'" in sql
    # The email carries the row number: unique regardless of case.
    assert "lower(first) || '.' || lower(last) || '.' || n || '@example.org'" in sql


def test_the_seed_needs_patients() -> None:
    with pytest.raises(ValueError, match="at least one"):
        seed_sql(0)


def test_the_values_fit_the_schema_and_quote_safely() -> None:
    longest_name = max(FIRST_NAMES, key=len) + " X. " + max(LAST_NAMES, key=len)
    assert len(longest_name) <= 100
    assert len("999 " + max(STREETS, key=len) + ", " + max(CITIES, key=len)) <= 255
    for values in (FIRST_NAMES, LAST_NAMES, STREETS, CITIES):
        assert len(set(values)) == len(values)
        assert all(value.isascii() and "'" not in value for value in values)


def test_the_search_term_matches_one_last_name_in_fifty_and_nothing_else() -> None:
    term = SEARCH_TERM.lower()
    assert [name for name in LAST_NAMES if term in name.lower()] == [SEARCH_TERM]
    assert not [v for v in (*FIRST_NAMES, *STREETS, *CITIES) if term in v.lower()]
    assert len(LAST_NAMES) == 50  # so 2,000 of 100,000 patients match


def test_the_scratch_service_answers_requests_only_on_its_own_port_and_database() -> None:
    environment = scratch_environment(
        41234, "postgresql+asyncpg://u:p@h/pms_patients_bench_100k", "k:9092", "http://a/jwks"
    )
    assert environment == {
        "PMS_PATIENTS_HTTP_PORT": "41234",
        "PMS_PATIENTS_DATABASE_URL": "postgresql+asyncpg://u:p@h/pms_patients_bench_100k",
        "PMS_PATIENTS_KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        "PMS_PATIENTS_AUTH_JWKS_URL": "http://a/jwks",
        "PMS_PATIENTS_BACKGROUND_WORKERS": "false",
        "PMS_PATIENTS_SEED_DEMO_PATIENTS": "false",
    }
