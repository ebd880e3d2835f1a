"""A minimal app built with the platform's factory, for testing the shared behaviour."""

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field

from pms_platform.db import Database
from pms_platform.errors import ConflictError
from pms_platform.http_app import create_service_app
from pms_platform.settings import ServiceSettings
from pms_testing.databases import DatabaseFactory
from pms_testing.http import app_client
from pms_testing.kafka import TopicFactory
from pms_testing.note_events import notes_database, topic_and_dead_letters


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=10)
    due: date


def build_example_app() -> FastAPI:
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def create_note(note: NoteIn) -> NoteIn:
        return note

    @router.get("/notes/{note_id}")
    async def read_note(note_id: int, verbose: Annotated[bool, Query()] = False) -> dict[str, int]:
        return {"id": note_id}

    @router.post("/conflict")
    async def conflict() -> None:
        raise ConflictError("Email address already exists")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals: jane@example.com")

    return create_service_app(
        ServiceSettings(service_name="example"), title="example", description="", routers=[router]
    )


@pytest.fixture
async def example_client() -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(build_example_app()) as client:
        yield client


@pytest.fixture
async def database(database_factory: DatabaseFactory) -> AsyncIterator[Database]:
    """The consumer tests' database (``pms_testing.note_events``); a test file with a
    database of its own defines its own ``database``."""
    async with notes_database(database_factory) as database:
        yield database


@pytest.fixture
async def topics(kafka_topic_factory: TopicFactory) -> tuple[str, str]:
    """A topic and its dead-letter topic."""
    return await topic_and_dead_letters(kafka_topic_factory)
