import json
import logging

import httpx
import pytest
import structlog

from pms_platform.http_app import create_service_app
from pms_platform.logging import REDACTED, configure_logging, get_logger
from pms_platform.request_context import sanitize_request_id
from pms_platform.settings import ServiceSettings


async def test_a_sane_client_request_id_is_kept_and_echoed(
    example_client: httpx.AsyncClient,
) -> None:
    response = await example_client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_a_missing_request_id_is_generated(example_client: httpx.AsyncClient) -> None:
    first = await example_client.get("/health/live")
    second = await example_client.get("/health/live")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("insane", ["", "a" * 129, "line\nbreak", "<script>"])
def test_an_insane_request_id_is_replaced(insane: str) -> None:
    assert sanitize_request_id(insane) != insane


async def test_log_lines_are_json_with_the_request_id_and_no_secrets(
    example_client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("example", "INFO", json=True)
    try:
        get_logger("test").info("login attempt", password="hunter2", email="jane@example.com")
        await example_client.get("/notes/7", headers={"X-Request-ID": "req-42"})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = saved_handlers, saved_level
    attempt = next(line for line in lines if line["event"] == "login attempt")
    assert attempt["password"] == REDACTED
    assert attempt["email"] == REDACTED
    access = next(line for line in lines if line["event"] == "request")
    assert access["request_id"] == "req-42"
    assert access["path"] == "/notes/7"
    assert access["status"] == 200
    assert "hunter2" not in json.dumps(lines)


async def test_liveness_is_up(example_client: httpx.AsyncClient) -> None:
    response = await example_client.get("/health/live")
    assert response.json() == {"status": "UP"}


async def test_metrics_count_requests_by_route_template(example_client: httpx.AsyncClient) -> None:
    await example_client.get("/notes/1")
    await example_client.get("/notes/2")
    metrics = (await example_client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/notes/{note_id}",status="200"} 2.0' in metrics


async def test_openapi_document_is_served(example_client: httpx.AsyncClient) -> None:
    document = (await example_client.get("/openapi.json")).json()
    assert "/notes" in document["paths"]


async def test_every_answer_forbids_sniffing_and_caching(example_client: httpx.AsyncClient) -> None:
    for response in (
        await example_client.get("/notes/7"),
        await example_client.get("/notes/abc"),  # a 400 problem too
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("client_address", "status"),
    [("127.0.0.1", 200), ("10.1.2.3", 200), ("192.168.0.9", 200), ("203.0.113.9", 404)],
)
async def test_metrics_answer_only_clients_of_the_allowed_networks(
    client_address: str, status: int
) -> None:
    app = create_service_app(ServiceSettings(service_name="example"), title="e", description="")
    transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/metrics")
    assert response.status_code == status
    if status == 404:  # the same answer as a path that does not exist
        assert response.json()["detail"] == "Not Found"
        assert "http_requests_total" not in response.text


def test_the_allowed_networks_are_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMS_METRICS_ALLOWED_NETWORKS", "10.9.0.0/16, ::1")
    assert [str(network) for network in ServiceSettings().metrics_allowed_networks] == [
        "10.9.0.0/16",
        "::1/128",
    ]
