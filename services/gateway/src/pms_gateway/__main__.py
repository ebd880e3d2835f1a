"""``python -m pms_gateway [serve]``: the same command locally and in containers.

Unlike the other services the gateway runs its own uvicorn: it may run several worker
processes (``workers``; uvicorn then imports the app factory by name in each), and, being
the edge, it trusts ``X-Forwarded-For`` only from the proxies named in
``forwarded_allow_ips`` (uvicorn's default would trust any local client, which could then
pick its own address and slip past the per-address login limit).
"""

import argparse

import uvicorn
from fastapi import FastAPI

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.logging import configure_logging, get_logger


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pms_gateway")
    # "migrate" is accepted like every service's; the gateway has no database.
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    command = parser.parse_args(argv).command
    settings = GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    log = get_logger("pms.server")
    if command == "migrate":
        log.info("no database to migrate")
        return
    log.info(
        "starting",
        port=settings.http_port,
        workers=settings.workers,
        environment=settings.environment.value,
    )
    if settings.workers > 1:
        _serve("pms_gateway.app:create_app_from_environment", settings, factory=True)
    else:
        _serve(create_app(settings), settings, factory=False)


def _serve(app: FastAPI | str, settings: GatewaySettings, *, factory: bool) -> None:
    uvicorn.run(
        app,
        factory=factory,
        workers=settings.workers if factory else None,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        loop="uvloop",
        http="httptools",
        ws="none",
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


if __name__ == "__main__":
    main()
