"""Generate the Python protobuf/gRPC code in ``pms_contracts`` from ``proto/``.

``python -m pms_cli.protogen`` regenerates ``libs/contracts/src/pms_contracts``;
``python -m pms_cli.protogen --check`` exits 1 listing the generated files that
are stale (differ from a fresh generation, are missing, or are left over).

The ``.proto`` files are compiled under the virtual path ``pms_contracts/``
(``-Ipms_contracts=proto/``), so protoc itself writes package-qualified imports
(``from pms_contracts import billing_service_pb2``) instead of the top-level
``import billing_service_pb2`` that breaks inside a package. The virtual path
only changes the descriptor's *file* name; proto packages, message and service
names, field numbers and so the wire format and gRPC method names are
untouched.
"""

from __future__ import annotations

import argparse
import importlib.resources
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]  # ships no stubs

PACKAGE = "pms_contracts"
"""The Python package the generated modules live in (and import each other from)."""

PROTO_DIR = Path("proto")
OUT_DIR = Path("libs/contracts/src") / PACKAGE
"""Paths of the sources and of the generated code, relative to the repository root."""

GENERATED_PATTERNS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*_pb2_grpc.pyi")
"""Every file this generator owns in the output directory (others are left alone)."""


class ProtocError(RuntimeError):
    """protoc failed (its own messages are on stderr)."""


def _plugin(name: str) -> str:
    """The path of a protoc plugin installed beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ProtocError(f"protoc plugin {name!r} not found; run `uv sync` (dev group)")
    return found


def _run_protoc(proto_dir: Path, work_dir: Path) -> None:
    """Compile every ``.proto`` of ``proto_dir`` into ``work_dir/pms_contracts/``."""
    sources = sorted(p.name for p in proto_dir.glob("*.proto"))
    if not sources:
        raise ProtocError(f"no .proto files in {proto_dir}")
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PACKAGE}={proto_dir.resolve()}",
        f"-I{well_known}",
        f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
        f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
        f"--python_out={work_dir}",
        f"--grpc_python_out={work_dir}",
        f"--mypy_out=quiet:{work_dir}",
        f"--mypy_grpc_out=quiet:{work_dir}",
        *(f"{PACKAGE}/{name}" for name in sources),
    ]
    status = protoc.main(args)
    if status != 0:
        raise ProtocError(f"protoc exited with status {status}")


def _generated_files(directory: Path) -> dict[str, Path]:
    """The generator-owned files of ``directory``, by file name."""
    if not directory.is_dir():
        return {}
    return {
        path.name: path
        for pattern in GENERATED_PATTERNS
        for path in directory.glob(pattern)
        if path.is_file()
    }


def generate(proto_dir: Path, out_dir: Path) -> list[Path]:
    """Regenerate the code for every ``.proto`` in ``proto_dir`` into ``out_dir``.

    Writes ``*_pb2.py``, ``*_pb2.pyi``, ``*_pb2_grpc.py`` and ``*_pb2_grpc.pyi``,
    removes generated files whose ``.proto`` is gone, and returns the written
    paths, sorted.
    """
    with tempfile.TemporaryDirectory(prefix="protogen-") as tmp:
        _run_protoc(proto_dir, Path(tmp))
        fresh = _generated_files(Path(tmp) / PACKAGE)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, stale in _generated_files(out_dir).items():
            if name not in fresh:
                stale.unlink()
        written = []
        for name, source in sorted(fresh.items()):
            target = out_dir / name
            target.write_bytes(source.read_bytes())
            written.append(target)
    return written


def check(proto_dir: Path, out_dir: Path) -> list[str]:
    """Names of the generated files in ``out_dir`` that differ from a fresh generation.

    A file is stale when its bytes differ, when it is missing, or when it is a
    generated file with no ``.proto`` left. An empty list means up to date.
    """
    with tempfile.TemporaryDirectory(prefix="protogen-check-") as tmp:
        fresh_dir = Path(tmp) / PACKAGE
        generate(proto_dir, fresh_dir)
        fresh = _generated_files(fresh_dir)
        current = _generated_files(out_dir)
        return sorted(
            name
            for name in fresh.keys() | current.keys()
            if name not in fresh
            or name not in current
            or fresh[name].read_bytes() != current[name].read_bytes()
        )


def _is_workspace_root(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return False
    with pyproject.open("rb") as file:
        config = tomllib.load(file)
    return "workspace" in config.get("tool", {}).get("uv", {})


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: the current one, then
    this file's) whose ``pyproject.toml`` has a ``[tool.uv.workspace]`` table."""
    starts = [start] if start is not None else [Path.cwd(), Path(__file__).parent]
    for begin in starts:
        for directory in (begin.resolve(), *begin.resolve().parents):
            if _is_workspace_root(directory):
                return directory
    raise FileNotFoundError("no pyproject.toml with [tool.uv.workspace] found above " + str(starts))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pms_cli.protogen",
        description=f"Generate {OUT_DIR} from {PROTO_DIR}/.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="generate nothing; exit 1 listing the generated files that are stale",
    )
    options = parser.parse_args(argv)
    root = find_repo_root()
    proto_dir, out_dir = root / PROTO_DIR, root / OUT_DIR
    if options.check:
        stale = check(proto_dir, out_dir)
        if stale:
            print(f"stale generated code in {OUT_DIR} (run `make proto`):", file=sys.stderr)
            for name in stale:
                print(f"  {name}", file=sys.stderr)
            return 1
        print(f"{OUT_DIR} is up to date with {PROTO_DIR}/")
        return 0
    for path in generate(proto_dir, out_dir):
        print(path.relative_to(root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
