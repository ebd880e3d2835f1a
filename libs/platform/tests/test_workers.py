"""The app factory's background workers: started after the service's own start-up,
stopped before its shutdown and before the database closes, only when the
``background_workers`` setting is on; and the adapter for a plain loop."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from pms_platform.db import Database
from pms_platform.http_app import create_service_app
from pms_platform.settings import ServiceSettings
from pms_platform.workers import LoopWorker, Worker
from pms_testing.http import app_client


class RecordingWorker:
    def __init__(self, name: str, journal: list[str], *, fails_to_start: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fails_to_start = fails_to_start
        self.stop_timeouts: list[float] = []

    async def start(self) -> None:
        if self.fails_to_start:
            raise RuntimeError("cannot start")
        self.journal.append(f"start {self.name}")

    async def stop(self, timeout_seconds: float) -> None:
        self.stop_timeouts.append(timeout_seconds)
        self.journal.append(f"stop {self.name}")


def app_with(
    workers: list[Worker], journal: list[str], *, background_workers: bool = True
) -> FastAPI:
    """An app whose lifespan, workers and database record what happens, in order."""
    database = Database("postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none")

    async def dispose() -> None:
        journal.append("database disposed")

    database.dispose = dispose  # type: ignore[method-assign]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        journal.append("service started")
        try:
            yield
        finally:
            journal.append("service stopped")

    settings = ServiceSettings(background_workers=background_workers, shutdown_grace_seconds=3)
    return create_service_app(
        settings,
        title="workers",
        description="",
        database=database,
        lifespan=lifespan,
        workers=workers,
    )


async def test_workers_start_after_the_service_start_up_and_stop_before_its_resources_close() -> (
    None
):
    journal: list[str] = []
    relay, consumer = RecordingWorker("relay", journal), RecordingWorker("consumer", journal)

    async with app_client(app_with([relay, consumer], journal)) as client:
        assert (await client.get("/health/live")).status_code == 200
        assert journal == ["service started", "start relay", "start consumer"]

    assert journal[3:] == ["stop relay", "stop consumer", "service stopped", "database disposed"]
    assert relay.stop_timeouts == consumer.stop_timeouts == [3.0]  # the shutdown grace


async def test_workers_are_not_started_when_background_workers_is_off() -> None:
    journal: list[str] = []
    worker = RecordingWorker("relay", journal)

    async with app_client(app_with([worker], journal, background_workers=False)):
        assert journal == ["service started"]

    assert journal == ["service started", "service stopped", "database disposed"]
    assert worker.stop_timeouts == []


async def test_a_worker_that_fails_to_start_stops_those_started_and_fails_the_start_up() -> None:
    journal: list[str] = []
    relay = RecordingWorker("relay", journal)
    broken = RecordingWorker("broken", journal, fails_to_start=True)
    app = app_with([relay, broken], journal)

    with pytest.raises(RuntimeError, match="cannot start"):
        async with app.router.lifespan_context(app):
            pass

    assert journal == [
        "service started",
        "start relay",
        "stop relay",
        "service stopped",
        "database disposed",
    ]


async def test_a_worker_that_fails_to_stop_does_not_keep_the_others_or_the_database_open() -> None:
    journal: list[str] = []

    class Stuck(RecordingWorker):
        async def stop(self, timeout_seconds: float) -> None:
            raise RuntimeError("stuck")

    async with app_client(
        app_with([Stuck("stuck", journal), RecordingWorker("b", journal)], journal)
    ):
        pass

    assert journal[-3:] == ["stop b", "service stopped", "database disposed"]


async def test_a_loop_worker_runs_its_loop_until_stopped() -> None:
    passes: list[int] = []

    async def run_until(stop: asyncio.Event) -> None:
        while not stop.is_set():
            passes.append(len(passes))
            await asyncio.sleep(0.01)

    worker = LoopWorker(run_until, "test-loop")
    await worker.start()
    await asyncio.sleep(0.05)
    await worker.stop(timeout_seconds=1)
    count = len(passes)
    await asyncio.sleep(0.03)

    assert count >= 2
    assert len(passes) == count  # it really stopped


async def test_a_loop_that_ignores_the_stop_is_cancelled_after_the_timeout() -> None:
    cancelled = asyncio.Event()

    async def run_until(_stop: asyncio.Event) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    worker = LoopWorker(run_until, "deaf-loop")
    await worker.start()
    started = asyncio.get_running_loop().time()
    await worker.stop(timeout_seconds=0.1)

    assert cancelled.is_set()
    assert asyncio.get_running_loop().time() - started < 1


async def test_a_loop_that_fails_is_logged_and_stops_cleanly() -> None:
    async def run_until(_stop: asyncio.Event) -> None:
        raise ValueError("broken loop")

    worker = LoopWorker(run_until, "failing-loop")
    with capture_logs() as logs:
        await worker.start()
        await asyncio.sleep(0)
        await worker.stop(timeout_seconds=1)  # does not raise

    assert {
        "event": "worker failed",
        "worker": "failing-loop",
        "error_type": "ValueError",
    }.items() <= logs[-1].items()
