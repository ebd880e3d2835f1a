"""PostgreSQL URL helpers."""

import pytest

from pms_cli.infra import database_url
from pms_cli.infra.urls import local_postgres_url, plain_postgres_url, redact_url

ADMIN = "postgresql://pms:pms@127.0.0.1:54329/postgres"


def test_database_url_swaps_the_database_and_sets_the_async_driver() -> None:
    assert (
        database_url(ADMIN, "pms_auth") == "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_auth"
    )


def test_database_url_can_keep_the_scheme_or_use_another_driver() -> None:
    assert database_url(ADMIN, "pms_billing", driver=None) == (
        "postgresql://pms:pms@127.0.0.1:54329/pms_billing"
    )
    assert database_url(ADMIN, "x", driver="postgresql+psycopg").startswith("postgresql+psycopg://")


def test_database_url_keeps_the_query_and_works_without_a_path() -> None:
    url = "postgresql://u:p%40ss@db.example:5432?sslmode=require"

    assert database_url(url, "pms_patients") == (
        "postgresql+asyncpg://u:p%40ss@db.example:5432/pms_patients?sslmode=require"
    )


def test_database_url_rejects_other_urls_and_empty_names() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        database_url("mysql://h/db", "pms_auth")
    with pytest.raises(ValueError, match="empty"):
        database_url(ADMIN, "")


def test_local_url_is_the_development_default() -> None:
    assert local_postgres_url(54329) == ADMIN


def test_redact_hides_only_the_password() -> None:
    assert redact_url("postgresql://admin:s3cret@db:5432/postgres") == (
        "postgresql://admin:***@db:5432/postgres"
    )
    assert redact_url("postgresql://db:5432/postgres") == "postgresql://db:5432/postgres"


def test_plain_url_drops_the_driver_suffix() -> None:
    assert plain_postgres_url("postgresql+asyncpg://u:p@h/d") == "postgresql://u:p@h/d"
