"""``python -m pms_cli.deploy_check`` finds what is wrong, not only passes what is right."""

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from pms_cli import deploy_check
from pms_cli.deploy_check import (
    DeployCheckError,
    lint_dockerfiles,
    load_documents,
    rendered,
    repo_root,
    validate_compose,
    validate_manifests,
)


def _first(kind: str, name: str | None = None) -> dict[str, Any]:
    for manifest in rendered("deploy/k8s/overlays/prod"):
        if manifest["kind"] == kind and name in (None, manifest["metadata"]["name"]):
            return copy.deepcopy(manifest)
    raise AssertionError(kind)


@pytest.fixture
def kubernetes_schemas() -> None:
    pytest.importorskip("kubernetes_validate", reason="dev dependency kubernetes-validate")


def _require_tool(name: str) -> None:
    try:
        deploy_check.dev_tool(name, name)
    except DeployCheckError:
        pytest.skip(f"{name} is not installed (a dev dependency)")


@pytest.mark.usefixtures("kubernetes_schemas")
def test_the_rendered_overlays_are_valid() -> None:
    for kustomization in deploy_check.KUSTOMIZATIONS:
        assert validate_manifests(rendered(kustomization)) == []


@pytest.mark.usefixtures("kubernetes_schemas")
def test_an_unknown_field_is_reported_with_its_path() -> None:
    deployment = _first("Deployment", "patients")
    probe = deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGet"]["paht"] = "/health/ready"

    problems = validate_manifests([deployment])

    assert len(problems) == len(deploy_check.KUBERNETES_VERSIONS)
    assert "Deployment/patients: spec.template.spec.containers.0.readinessProbe" in problems[0]
    assert "'paht' was unexpected" in problems[0]


@pytest.mark.usefixtures("kubernetes_schemas")
def test_a_wrong_type_is_reported() -> None:
    autoscaler = _first("HorizontalPodAutoscaler")
    autoscaler["spec"]["maxReplicas"] = "ten"

    assert any("spec.maxReplicas" in problem for problem in validate_manifests([autoscaler]))


@pytest.mark.usefixtures("kubernetes_schemas")
def test_a_kind_without_any_schema_fails_instead_of_passing() -> None:
    typo = _first("Service")
    typo["apiVersion"] = "v2"

    (problem,) = validate_manifests([typo])

    assert "no schema for v2 Service" in problem


@pytest.mark.usefixtures("kubernetes_schemas")
def test_kafka_topics_are_validated_against_our_schema() -> None:
    topic = _first("KafkaTopic")
    topic["spec"]["partitions"] = 0
    topic["spec"]["replication"] = 3
    del topic["metadata"]["labels"]["strimzi.io/cluster"]

    problems = "\n".join(validate_manifests([topic]))

    assert "spec.partitions: 0 is less than the minimum of 1" in problems
    assert "'replication' was unexpected" in problems
    assert "'strimzi.io/cluster' is a required property" in problems


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    _require_tool("hadolint")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\nCMD python -m pms_auth serve\n")

    result = lint_dockerfiles(repo_root(), [bad])

    assert not result.ok
    found = "\n".join(result.problems)
    for rule in ("DL3006", "DL3008", "DL3025"):
        assert rule in found


def test_the_compose_schema_reports_an_unknown_key(tmp_path: Path) -> None:
    _require_tool("check-jsonschema")
    broken = tmp_path / "compose.yaml"
    text = (repo_root() / "deploy/compose.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("    depends_on:\n", "    depends:\n", 1))

    result = validate_compose(repo_root(), broken)

    assert not result.ok
    assert "depends" in "\n".join(result.problems)


def test_the_whole_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubernetes_validate", reason="dev dependency kubernetes-validate")
    _require_tool("hadolint")
    _require_tool("check-jsonschema")

    assert deploy_check.main([]) == 0
    assert "deploy check passed" in capsys.readouterr().out


def test_yaml_documents_that_are_not_mappings_are_refused() -> None:
    assert load_documents("---\na: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    with pytest.raises(DeployCheckError):
        load_documents("- a list\n")


def test_a_missing_kustomize_and_go_give_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PMS_KUSTOMIZE", raising=False)
    monkeypatch.setenv("PMS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda _name: None)

    with pytest.raises(DeployCheckError, match="go install"):
        deploy_check.kustomize_binary()
