"""The generated contracts code is in step with proto/ and keeps the frozen names."""

from pathlib import Path
from typing import Any

import pytest

from pms_cli import protogen
from pms_contracts import billing_service_pb2_grpc

ROOT = protogen.find_repo_root(Path(__file__).parent)
PROTO_DIR = ROOT / protogen.PROTO_DIR
OUT_DIR = ROOT / protogen.OUT_DIR

EXPECTED_FILES = sorted(
    f"{proto.stem}{suffix}"
    for proto in PROTO_DIR.glob("*.proto")
    for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")
)


def test_every_contract_of_the_system_has_a_proto() -> None:
    assert {"billing_service_pb2.py", "patient_event_pb2.py", "billing_event_pb2.py"} <= set(
        EXPECTED_FILES
    )


def test_committed_generated_code_is_identical_to_a_fresh_generation() -> None:
    stale = protogen.check(PROTO_DIR, OUT_DIR)

    assert stale == [], f"stale generated code, run `make proto`: {stale}"


def test_generate_writes_the_four_modules_of_each_proto(tmp_path: Path) -> None:
    written = protogen.generate(PROTO_DIR, tmp_path)

    assert [path.name for path in written] == EXPECTED_FILES
    assert all(path.parent == tmp_path for path in written)


def test_generated_modules_import_each_other_through_the_package(tmp_path: Path) -> None:
    protogen.generate(PROTO_DIR, tmp_path)
    grpc_module = (tmp_path / "billing_service_pb2_grpc.py").read_text()
    grpc_stub = (tmp_path / "billing_service_pb2_grpc.pyi").read_text()

    assert "from pms_contracts import billing_service_pb2 as" in grpc_module
    assert "from pms_contracts import billing_service_pb2 as" in grpc_stub
    for path in tmp_path.iterdir():
        assert "\nimport billing_service_pb2" not in path.read_text(), path.name


def test_check_lists_changed_missing_and_leftover_files(tmp_path: Path) -> None:
    protogen.generate(PROTO_DIR, tmp_path)
    (tmp_path / "billing_service_pb2.py").write_text("# edited by hand\n")
    (tmp_path / "patient_event_pb2.pyi").unlink()
    (tmp_path / "removed_pb2.py").write_text("# its .proto is gone\n")
    (tmp_path / "__init__.py").write_text("# not generated, ignored\n")

    assert protogen.check(PROTO_DIR, tmp_path) == [
        "billing_service_pb2.py",
        "patient_event_pb2.pyi",
        "removed_pb2.py",
    ]


def test_generate_removes_leftovers_and_keeps_other_files(tmp_path: Path) -> None:
    (tmp_path / "removed_pb2_grpc.py").write_text("# its .proto is gone\n")
    (tmp_path / "__init__.py").write_text("")

    protogen.generate(PROTO_DIR, tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*EXPECTED_FILES, "__init__.py"])
    assert protogen.check(PROTO_DIR, tmp_path) == []


def test_main_check_exits_1_listing_stale_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "repo"
    (root / "proto").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["libs/*"]\n')
    for proto in PROTO_DIR.glob("*.proto"):
        (root / "proto" / proto.name).write_bytes(proto.read_bytes())
    monkeypatch.chdir(root / "proto")

    assert protogen.main(["--check"]) == 1
    assert "billing_service_pb2.py" in capsys.readouterr().err

    assert protogen.main([]) == 0
    assert (root / protogen.OUT_DIR / "billing_service_pb2_grpc.py").is_file()
    assert protogen.main(["--check"]) == 0


class _RecordingChannel:
    """Stands in for a grpc.Channel and records the method paths a stub asks for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> object:
        self.paths.append(method)
        return object()


def test_generated_stub_calls_the_original_full_method_name() -> None:
    recorder = _RecordingChannel()
    channel: Any = recorder  # duck-typed stand-in for grpc.Channel

    billing_service_pb2_grpc.BillingServiceStub(channel)

    # The original's method keeps its full name; RPCs added since live on the same service.
    assert recorder.paths[0] == "/BillingService/CreateBillingAccount"
    assert all(path.startswith("/BillingService/") for path in recorder.paths)
