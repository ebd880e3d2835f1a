import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pms_platform.db import Database, SessionDep
from pms_platform.http_app import create_service_app
from pms_platform.migrations import upgrade_to_head
from pms_platform.settings import ServiceSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parent / "migrations"


def notes_app(database: Database) -> FastAPI:
    router = APIRouter()

    @router.post("/notes/{slug}", status_code=201)
    async def create(slug: str, body: str, session: SessionDep, copies: int = 1) -> dict[str, str]:
        for _ in range(copies):
            await session.execute(
                text("INSERT INTO notes (slug, body) VALUES (:slug, :body)"),
                {"slug": slug, "body": body},
            )
        return {"slug": slug}

    @router.get("/notes/{slug}")
    async def read(slug: str, session: SessionDep) -> dict[str, str]:
        row = (
            await session.execute(text("SELECT body FROM notes WHERE slug = :slug"), {"slug": slug})
        ).one()
        return {"body": row.body}

    return create_service_app(
        ServiceSettings(service_name="notes"),
        title="notes",
        description="",
        routers=[router],
        database=database,
    )


@pytest.fixture
async def database(database_factory: DatabaseFactory) -> AsyncIterator[Database]:
    database = Database(await database_factory(MIGRATIONS))
    yield database
    await database.dispose()


@pytest.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(notes_app(database)) as client:
        yield client


async def test_a_row_written_through_the_request_session_is_read_back(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post("/notes/first", params={"body": "hello"})
    assert created.status_code == 201
    read = await client.get("/notes/first")
    assert read.json() == {"body": "hello"}


async def test_a_failed_commit_answers_an_error_and_stores_nothing(
    client: httpx.AsyncClient, database: Database
) -> None:
    # Two rows with one slug: the deferred constraint fails at COMMIT, after the endpoint
    # returned; the client must not be told 201.
    response = await client.post("/notes/twice", params={"body": "x", "copies": 2})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    async with database.transaction() as session:
        count = (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert count == 0


async def test_migrations_reach_head_and_running_them_again_changes_nothing(
    database: Database,
) -> None:
    await upgrade_to_head(MIGRATIONS, database.engine.url.render_as_string(hide_password=False))
    async with database.transaction() as session:
        version = (await session.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert [row.version_num for row in version] == ["0001"]


async def test_readiness_reports_the_database_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "UP"}


async def test_readiness_opens_both_pools_so_no_read_waits_for_a_first_connection(
    database_factory: DatabaseFactory,
) -> None:
    database = Database(await database_factory(MIGRATIONS), application_name="ready-probe")
    try:
        await database.ping()
        async with database.transaction() as session:
            opened = (
                await session.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = 'ready-probe' AND pid <> pg_backend_pid()"
                    )
                )
            ).scalar_one()
    finally:
        await database.dispose()
    assert opened == 1, "the lean pool's connection is open besides the session's"


async def test_readiness_is_503_when_the_database_does_not_answer() -> None:
    unreachable = Database("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")
    async with app_client(notes_app(unreachable)) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["database"].startswith("DOWN")


async def test_a_pooled_connection_the_server_closed_is_replaced_before_use(
    database: Database,
) -> None:
    """No ping per checkout (three round trips a transaction): a connection the server
    ended (a restart, ``pg_terminate_backend``) must be swapped for a new one, not handed
    to the next transaction to fail on."""
    async with database.transaction() as session:
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    async with database.connection() as admin:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.sleep(0.2)  # the event loop reads the closed socket
    async with database.transaction() as session:
        new_pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    assert new_pid != pid


async def test_a_failed_statement_names_no_parameter_value(database: Database) -> None:
    """Errors reach logs: SQLAlchemy must not append a statement's values (patient details,
    password hashes) to its error's text. (PostgreSQL's own DETAIL, which quotes the row,
    stays in the driver's ``detail``, out of the text.)"""
    secret = "Jane Roe, 1 Secret Road"
    with pytest.raises(DBAPIError) as raised:  # noqa: PT012 - the transaction is part of it
        async with database.transaction() as session:
            await session.execute(text("CREATE TEMPORARY TABLE held (v text PRIMARY KEY)"))
            await session.execute(
                text("INSERT INTO held VALUES (:value), (:value)"), {"value": secret}
            )
    assert "duplicate key" in str(raised.value)
    assert secret not in str(raised.value)
