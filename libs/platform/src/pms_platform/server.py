"""The entry point every service shares: ``python -m pms_<service> [serve|migrate]``.

``serve`` runs the HTTP app under uvicorn (graceful shutdown on SIGTERM and Ctrl-C:
stop accepting, finish in-flight requests, run the app's shutdown). ``migrate`` brings
the service's database to the newest revision and exits; containers and the local
launcher run the very same two commands. A service may add its own one-shot commands
(``python -m pms_analytics rebuild``) with ``extra_commands``.
"""

import argparse
import asyncio
import gc
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from pms_platform.http_protocol import DEFAULT_HEADER_TIMEOUT_SECONDS, header_timeout_protocol
from pms_platform.logging import configure_logging, get_logger
from pms_platform.settings import DatabaseSettings, ServiceSettings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
YOUNG_GENERATION_THRESHOLD = 10_000


def settle_collector() -> None:
    """Collect once, set aside every object alive now, and turn the collector on with a
    higher threshold for its youngest generation.

    - A service's start-up leaves some 130,000 long-lived objects (FastAPI's routes,
      pydantic's schemas, SQLAlchemy's mappers) and no garbage that outlives it. Left in
      the oldest generation they were walked by every full collection: 95-110 ms each,
      a dozen in 40 s of reads and creates on patients, each a pause in which no request
      is served. ``gc.freeze`` moves them to the permanent generation, which no
      collection walks: full collections then took 4-12 ms.
    - With the default threshold (700 more tracked objects than freed) a young
      collection ran about every 15 requests, 0.45 ms each: 3 % of the CPU. Almost all
      of a request's objects are freed by their reference counts, so at 10,000 the same
      40 s saw one young collection.
    - Each service's ``__main__`` turns the collector off before its imports
      (``pms_platform.process_start.begin_start_up``; a quarter of their time went to
      collections that found nothing to free); this turns it back on, whatever the
      command.
    """
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
    gc.collect()
    gc.freeze()
    gc.enable()


def serve(
    app: FastAPI | str,
    settings: ServiceSettings,
    *,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
) -> None:
    """Run ``app`` under uvicorn on the settings' host and port until SIGTERM or Ctrl-C.

    ``app`` may be the import string of an app factory (``"pms_gateway.app:create"``),
    which ``workers`` > 1 needs: each worker process imports and calls it.
    ``forwarded_allow_ips`` names the proxies whose ``X-Forwarded-For`` is believed
    (comma-separated, or ``"*"``); ``""`` believes none, ``None`` keeps uvicorn's
    default (local clients, or the ``FORWARDED_ALLOW_IPS`` environment variable).
    A connection whose request head is not complete within ``header_timeout_seconds``
    gets a 408 and is closed (:mod:`pms_platform.http_protocol`).
    """
    factory = isinstance(app, str)
    if workers > 1 and not factory:
        raise ValueError("several workers need the import string of the app factory")
    settle_collector()  # the app is built: what exists now lives as long as the process
    uvicorn.run(
        app,
        factory=factory,
        workers=workers if factory else None,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        loop="uvloop",
        http=header_timeout_protocol(header_timeout_seconds),
        ws="none",  # no service serves WebSockets
        proxy_headers=forwarded_allow_ips != "",
        forwarded_allow_ips=forwarded_allow_ips or None,
    )


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


def run_service_command(
    settings_factory: Callable[[], SettingsT],
    app_factory: Callable[[SettingsT], FastAPI],
    migrations_dir: Path | None = None,
    argv: list[str] | None = None,
    extra_commands: Mapping[str, Callable[[SettingsT], Awaitable[None]]] | None = None,
) -> None:
    """Parse ``serve`` / ``migrate`` (or one of ``extra_commands``) and run it."""
    extra = dict(extra_commands or {})
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", *extra])
    command = parser.parse_args(argv).command
    settings = settings_factory()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    log = get_logger("pms.server")
    if command != "serve":
        settle_collector()
    if command in extra:
        asyncio.run(_awaited(extra[command](settings)))
        return
    if command == "migrate":
        if migrations_dir is None or not isinstance(settings, DatabaseSettings):
            log.info("no database to migrate")
            return
        # Imported here: serving needs no Alembic (the gateway not even SQLAlchemy).
        from pms_platform.migrations import upgrade_to_head

        asyncio.run(upgrade_to_head(migrations_dir, settings.database_url))
        log.info("database migrated")
        return
    log.info("starting", port=settings.http_port, environment=settings.environment.value)
    serve(app_factory(settings), settings)
