"""``python -m pms_gateway [serve]``: the same command locally and in containers.

Unlike the other services the gateway may run several worker processes (``workers``;
uvicorn then imports the app factory by name in each), and, being the edge, it trusts
``X-Forwarded-For`` only from the proxies named in ``forwarded_allow_ips`` (uvicorn's
default would trust any local client, which could then pick its own address and slip
past the per-address login limit). Both are options of the platform's ``serve``, as is
the deadline on request heads (``header_timeout_seconds``).
"""

from pms_platform.process_start import begin_start_up

begin_start_up()  # before the imports below: see its docstring

import argparse

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.logging import configure_logging, get_logger
from pms_platform.server import serve


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
    trusted = settings.forwarded_allow_ips
    header_timeout = settings.header_timeout_seconds
    if settings.workers > 1:
        factory = "pms_gateway.app:create_app_from_environment"
        serve(
            factory,
            settings,
            workers=settings.workers,
            forwarded_allow_ips=trusted,
            header_timeout_seconds=header_timeout,
        )
    else:
        serve(
            create_app(settings),
            settings,
            forwarded_allow_ips=trusted,
            header_timeout_seconds=header_timeout,
        )


if __name__ == "__main__":
    main()
