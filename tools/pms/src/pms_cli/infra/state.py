"""The small JSON file ``.pms/infra.json``: endpoints, and what this project started."""

import asyncio
import fcntl
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Component(StrEnum):
    POSTGRES = "postgres"
    KAFKA = "kafka"


class Mode(StrEnum):
    LOCAL = "local"
    """Started and owned by this project."""
    EXTERNAL = "external"
    """Given by the environment; never started or stopped here."""


PERSISTENT_OWNER = "up"
"""Owner of components started (or claimed) by `pms infra up`: only `down` stops them."""


@dataclass(frozen=True)
class ComponentState:
    """One component as last seen by ensure/stop."""

    mode: Mode
    address: str
    """A URL or host:port; passwords of external servers are never stored."""
    owner: str | None = None
    """`PERSISTENT_OWNER` or the session that started it (local components only)."""
    pid: int | None = None
    version: str | None = None


@dataclass(frozen=True)
class InfraState:
    components: dict[Component, ComponentState] = field(default_factory=dict)

    def to_json(self) -> str:
        payload = {name.value: asdict(entry) for name, entry in self.components.items()}
        return json.dumps({"components": payload}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "InfraState":
        raw: Any = json.loads(text)
        components: dict[Component, ComponentState] = {}
        for name, entry in dict(raw.get("components", {})).items():
            if name not in Component.__members__.values():
                continue
            components[Component(name)] = ComponentState(
                mode=Mode(entry["mode"]),
                address=str(entry["address"]),
                owner=entry.get("owner"),
                pid=entry.get("pid"),
                version=entry.get("version"),
            )
        return cls(components)

    def with_component(self, name: Component, entry: ComponentState | None) -> "InfraState":
        components = dict(self.components)
        if entry is None:
            components.pop(name, None)
        else:
            components[name] = entry
        return InfraState(components)


def load_state(path: Path) -> InfraState:
    """The saved state, or an empty one when the file is missing or unreadable."""
    try:
        return InfraState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return InfraState()


def save_state(path: Path, state: InfraState) -> None:
    """Write the state atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(state.to_json(), encoding="utf-8")
    temporary.replace(path)


@asynccontextmanager
async def exclusive_lock(path: Path) -> AsyncIterator[None]:
    """Serialise infra changes between concurrent `pms` invocations on one checkout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
