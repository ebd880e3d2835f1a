"""Fixtures: echo upstreams and a gateway in front of them, all on real sockets."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pms_gateway.app import create_app
from pms_gateway.settings import GatewaySettings
from pms_platform.http_protocol import header_timeout_protocol
from pms_platform.security import TokenVerifier
from pms_testing.processes import reserve_port
from pms_testing.servers import UPSTREAM_NAMES, EchoUpstream, RunningUpstream, serve_asgi
from pms_testing.tokens import TokenMinter

GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
"""Starts a gateway with settings overridden by keyword; yields a client for it."""

# Unless a test passes its own console_dir, the gateway serves no web console, whether
# or not this checkout's console/dist is built (test_gateway_console.py builds its own).
NO_CONSOLE = Path(__file__).parent / "no-console-built"


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port that refuses connections: bound (so nobody else takes it) but not listening."""
    reserved = reserve_port()
    try:
        yield reserved.getsockname()[1]
    finally:
        reserved.close()


@pytest.fixture(scope="session")
async def upstream_servers() -> AsyncIterator[dict[str, RunningUpstream]]:
    """Started once: four echo upstreams, one per service."""
    async with AsyncExitStack() as stack:
        running: dict[str, RunningUpstream] = {}
        for name in UPSTREAM_NAMES:
            app = EchoUpstream(name)
            running[name] = RunningUpstream(app, await stack.enter_async_context(serve_asgi(app)))
        yield running


@pytest.fixture
def upstreams(upstream_servers: dict[str, RunningUpstream]) -> dict[str, RunningUpstream]:
    """The echo upstreams, with what they received and their behaviour reset."""
    for running in upstream_servers.values():
        running.app.reset()
    return upstream_servers


@pytest.fixture
def gateway_factory(
    token_minter: TokenMinter, upstreams: dict[str, RunningUpstream]
) -> GatewayFactory:
    """Start a gateway (settings overridable) in front of the echo upstreams; a client."""

    @asynccontextmanager
    async def start(
        verifier: TokenVerifier | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        values: dict[str, Any] = {f"{name}_url": up.url for name, up in upstreams.items()}
        values.update(environment="test", console_dir=NO_CONSOLE)
        values.update(overrides)
        settings = GatewaySettings(**values)
        app = create_app(settings, token_verifier=verifier or token_minter.verifier())
        # The HTTP protocol ``python -m pms_gateway`` runs, with its deadline on heads.
        http = header_timeout_protocol(settings.header_timeout_seconds)
        async with (
            serve_asgi(app, lifespan="on", http=http) as url,
            httpx.AsyncClient(base_url=url, timeout=10.0) as client,
        ):
            yield client

    return start


@pytest.fixture
async def gateway(gateway_factory: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_factory() as client:
        yield client
