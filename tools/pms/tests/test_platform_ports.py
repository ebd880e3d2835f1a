"""Where a platform listens: SYSTEM.md's ports by default, moved whole by one offset or one
port at a time, and every address between its services derived from the chosen ports."""

import re
from pathlib import Path

import pytest

from pms_cli.infra.errors import InfraError
from pms_cli.infra.paths import state_dir
from pms_cli.infra.settings import load_settings
from pms_cli.isolated_run import isolated_environment, only_run_in, refuse_development_folder
from pms_cli.services import SERVICES, PlatformPorts, platform_ports, service_named

POSTGRES = "postgresql://pms:pms@127.0.0.1:64329/postgres"
DEFAULT_PORTS = {"4000", "4001", "4002", "4004", "4005", "9001", "54329", "9092", "9093"}


def environment_of(name: str, ports: PlatformPorts) -> dict[str, str]:
    return service_named(name).environment(POSTGRES, "127.0.0.1:19092", Path("/s"), ports)


def test_the_defaults_are_the_ports_of_system_md() -> None:
    ports = platform_ports({})

    assert dict(ports.http) == {
        "auth": 4005,
        "billing": 4001,
        "patients": 4000,
        "analytics": 4002,
        "gateway": 4004,
    }
    assert ports.billing_grpc == 9001
    assert ports.gateway_url == "http://127.0.0.1:4004"
    assert ports.jwks_url == "http://127.0.0.1:4005/.well-known/jwks.json"
    assert [spec.http_port for spec in ports.services] == [spec.http_port for spec in SERVICES]


def test_an_offset_moves_every_port_of_the_services_and_the_infra() -> None:
    environ = {"PMS_PORT_OFFSET": "10000"}
    ports = platform_ports(environ)
    infra = load_settings(environ)

    assert sorted(ports.all_ports) == [14000, 14001, 14002, 14004, 14005, 19001]
    assert (infra.postgres_port, infra.kafka_port, infra.kafka_controller_port) == (
        64329,
        19092,
        19093,
    )
    assert ports.gateway_url == "http://127.0.0.1:14004"
    assert {spec.name: spec.base_url for spec in ports.services}["auth"] == (
        "http://127.0.0.1:14005"
    )


def test_a_moved_platform_keeps_its_own_state_folder(tmp_path: Path) -> None:
    default, moved = state_dir({}), state_dir({"PMS_PORT_OFFSET": "100"})

    assert moved == default / "offset-100"
    assert state_dir({"PMS_PORT_OFFSET": "100", "PMS_STATE_DIR": str(tmp_path)}) == tmp_path


def test_no_service_of_a_moved_platform_is_pointed_at_a_default_port() -> None:
    ports = platform_ports({"PMS_PORT_OFFSET": "10000"})

    for spec in SERVICES:
        environment = spec.environment(POSTGRES, "127.0.0.1:19092", Path("/s"), ports)
        named = {
            number
            for value in environment.values()
            for number in re.findall(r"(?<![0-9])[0-9]{4,5}(?![0-9])", value)
        }
        assert not named & DEFAULT_PORTS, (spec.name, environment)


def test_every_url_between_services_follows_the_chosen_ports() -> None:
    ports = platform_ports(
        {
            "PMS_AUTH_HTTP_PORT": "5005",
            "PMS_PATIENTS_HTTP_PORT": "5000",
            "PMS_BILLING_GRPC_PORT": "5901",
        }
    )

    for verifier in ("patients", "billing", "analytics", "gateway"):
        prefix = service_named(verifier).env_prefix
        assert environment_of(verifier, ports)[f"{prefix}AUTH_JWKS_URL"] == (
            "http://127.0.0.1:5005/.well-known/jwks.json"
        )
    gateway = environment_of("gateway", ports)
    assert gateway["PMS_GATEWAY_AUTH_URL"] == "http://127.0.0.1:5005"
    assert gateway["PMS_GATEWAY_PATIENTS_URL"] == "http://127.0.0.1:5000"
    assert gateway["PMS_GATEWAY_BILLING_URL"] == "http://127.0.0.1:4001"
    assert gateway["PMS_GATEWAY_ANALYTICS_URL"] == "http://127.0.0.1:4002"
    assert environment_of("patients", ports)["PMS_PATIENTS_BILLING_GRPC_TARGET"] == (
        "127.0.0.1:5901"
    )
    assert environment_of("billing", ports)["PMS_BILLING_GRPC_PORT"] == "5901"
    assert environment_of("patients", ports)["PMS_PATIENTS_HTTP_PORT"] == "5000"


@pytest.mark.parametrize(
    "environ",
    [
        {"PMS_PORT_OFFSET": "-1"},
        {"PMS_PORT_OFFSET": "11207"},
        {"PMS_PORT_OFFSET": "ten"},
        {"PMS_GATEWAY_HTTP_PORT": "4005"},
        {"PMS_BILLING_GRPC_PORT": "70000"},
    ],
)
def test_ports_that_cannot_work_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(InfraError):
        platform_ports(environ)


def test_a_test_run_drops_every_address_of_another_platform(tmp_path: Path) -> None:
    caller = {
        "PATH": "/usr/bin",
        "PMS_POSTGRES_URL": "postgresql://pms:pms@127.0.0.1:54329/postgres",
        "PMS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
        "PMS_STATE_DIR": "/dev/state",
        "PMS_INFRA_POSTGRES_PORT": "54329",
        "PMS_PATIENTS_AUTH_JWKS_URL": "http://127.0.0.1:4005/.well-known/jwks.json",
        "PMS_GATEWAY_HTTP_PORT": "4004",
        "PMS_PATIENTS_DATABASE_URL": "postgresql+asyncpg://pms:pms@127.0.0.1:54329/pms_patients",
        "PMS_GATEWAY_RATE_LIMIT_API_PER_USER": "off",
    }

    environment = isolated_environment(caller, tmp_path / "test", 10000)

    assert environment == {
        "PATH": "/usr/bin",
        "PMS_GATEWAY_RATE_LIMIT_API_PER_USER": "off",
        "PMS_STATE_DIR": str(tmp_path / "test"),
        "PMS_PORT_OFFSET": "10000",
    }


def test_a_test_run_never_empties_the_development_folder(tmp_path: Path) -> None:
    with pytest.raises(InfraError):
        refuse_development_folder(tmp_path / ".pms", tmp_path / ".pms")
    with pytest.raises(InfraError):
        refuse_development_folder(tmp_path, tmp_path / ".pms")
    refuse_development_folder(tmp_path / ".pms" / "test", tmp_path / ".pms")


def test_two_test_runs_never_share_a_folder(tmp_path: Path) -> None:
    with only_run_in(tmp_path / "test"), pytest.raises(InfraError), only_run_in(tmp_path / "test"):
        pass
