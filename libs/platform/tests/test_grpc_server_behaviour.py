"""The platform's gRPC server: errors, request ids, metrics, graceful stop."""

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pms_platform.grpc_server import GrpcServer, GrpcService
from pms_platform.request_context import current_request_id

release = asyncio.Event()


async def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return (current_request_id() or "").encode() + b":" + request


async def crash(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    raise RuntimeError("secret internals: jane@example.com")


async def slow(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    await release.wait()
    return b"done"


def register(server: grpc.aio.Server) -> None:
    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        name: grpc.unary_unary_rpc_method_handler(behaviour)
        for name, behaviour in (("Echo", echo), ("Crash", crash), ("Slow", slow))
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Box", handlers)])


@pytest.fixture
async def server() -> AsyncIterator[tuple[GrpcServer, CollectorRegistry]]:
    registry = CollectorRegistry()
    server = GrpcServer([GrpcService("test.Box", register)], grace_seconds=5)
    await server.start(registry)
    yield server, registry
    await server.stop()


@pytest.fixture
async def channel(
    server: tuple[GrpcServer, CollectorRegistry],
) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server[0].port}") as channel:
        yield channel


def method(channel: grpc.aio.Channel, name: str) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    return channel.unary_unary(f"/test.Box/{name}")


async def test_the_callers_request_id_is_current_in_the_handler_and_returned(
    channel: grpc.aio.Channel,
) -> None:
    call = method(channel, "Echo")(b"hi", timeout=5, metadata=(("x-request-id", "abc-1"),))

    assert await call == b"abc-1:hi"
    assert dict(await call.trailing_metadata() or ())["x-request-id"] == "abc-1"


async def test_a_call_without_request_id_gets_a_new_one(channel: grpc.aio.Channel) -> None:
    answer = await method(channel, "Echo")(b"x", timeout=5)

    request_id, _, _ = answer.partition(b":")
    assert len(request_id) == 32


async def test_an_unexpected_error_is_internal_without_its_details(
    channel: grpc.aio.Channel, server: tuple[GrpcServer, CollectorRegistry]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await method(channel, "Crash")(b"", timeout=5)

    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert raised.value.details() == "An unexpected error occurred; it has been logged"
    metrics = generate_latest(server[1]).decode()
    assert 'grpc_server_handled_total{code="INTERNAL",method="/test.Box/Crash"} 1.0' in metrics


async def test_stop_lets_a_call_in_flight_finish_and_refuses_new_ones(
    server: tuple[GrpcServer, CollectorRegistry], channel: grpc.aio.Channel
) -> None:
    release.clear()
    in_flight = asyncio.ensure_future(method(channel, "Slow")(b"", timeout=10))
    await asyncio.sleep(0.2)

    stopping = asyncio.ensure_future(server[0].stop())
    await asyncio.sleep(0.2)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await method(channel, "Echo")(b"", timeout=2)
    release.set()

    assert await in_flight == b"done"
    await stopping
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_readiness_check_fails_unless_the_server_runs() -> None:
    server = GrpcServer([GrpcService("test.Box", register)])
    with pytest.raises(RuntimeError):
        await server.check_serving()
    await server.start()
    try:
        await server.check_serving()
    finally:
        await server.stop()
    with pytest.raises(RuntimeError):
        await server.check_serving()
