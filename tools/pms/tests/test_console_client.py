"""The console's API client is generated from the documents the gateway serves, with the
gateway's paths, and the check names what is stale."""

import os
from pathlib import Path
from typing import Any

import pytest

from pms_cli.console_client import gateway_documents, stale_files, whole_paths


@pytest.fixture
def documents(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    for name in [name for name in os.environ if name.startswith("PMS_")]:
        monkeypatch.delenv(name)
    return gateway_documents()


def test_the_documents_have_the_gateways_paths_and_no_internal_ones(
    documents: dict[str, dict[str, Any]],
) -> None:
    paths = {service: set(document["paths"]) for service, document in documents.items()}
    assert {"/auth/login", "/auth/refresh", "/auth/logout"} <= paths["auth"]
    assert {"/api/patients", "/api/patients/{patient_id}", "/api/audit"} <= paths["patients"]
    assert all(path.startswith("/api/billing/") for path in paths["billing"])
    assert all(path.startswith("/api/analytics/") for path in paths["analytics"])
    every_path = set().union(*paths.values())
    assert not {path for path in every_path if "/health" in path or path.endswith("/metrics")}
    assert all(document["servers"] == [{"url": "/"}] for document in documents.values())


def test_the_documents_carry_the_gateways_own_answers(
    documents: dict[str, dict[str, Any]],
) -> None:
    login = documents["auth"]["paths"]["/auth/login"]["post"]["responses"]
    patients = documents["patients"]["paths"]["/api/patients"]["get"]["responses"]
    assert {"429", "502", "503", "504"} <= set(login)
    assert {"401", "403", "429", "503"} <= set(patients)


def test_whole_paths_moves_the_server_base_into_each_path() -> None:
    document = {"servers": [{"url": "/api"}], "paths": {"/patients": {}, "/audit": {}}}
    assert whole_paths(document, "/api") == {
        "servers": [{"url": "/"}],
        "paths": {"/api/patients": {}, "/api/audit": {}},
    }


def test_stale_files_names_changed_missing_and_extra_files(tmp_path: Path) -> None:
    committed, fresh = tmp_path / "committed", tmp_path / "fresh"
    committed.mkdir()
    fresh.mkdir()
    for folder in (committed, fresh):
        (folder / "same.ts").write_text("a")
    (committed / "changed.ts").write_text("old")
    (fresh / "changed.ts").write_text("new")
    (committed / "gone.ts").write_text("x")
    (fresh / "new.ts").write_text("x")
    assert stale_files(committed, fresh) == ["changed.ts", "gone.ts", "new.ts"]
    assert stale_files(committed, committed) == []
