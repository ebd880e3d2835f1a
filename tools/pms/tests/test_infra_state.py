"""The JSON state file."""

from pathlib import Path

from pms_cli.infra.state import (
    Component,
    ComponentState,
    InfraState,
    Mode,
    load_state,
    save_state,
)


def test_state_round_trips_through_the_file(tmp_path: Path) -> None:
    state = InfraState(
        {
            Component.POSTGRES: ComponentState(
                Mode.LOCAL, "postgresql://pms:pms@127.0.0.1:54329/postgres", "up", 42
            ),
            Component.KAFKA: ComponentState(Mode.EXTERNAL, "broker:9092"),
        }
    )
    path = tmp_path / ".pms" / "infra.json"

    save_state(path, state)

    assert load_state(path) == state
    assert not list(path.parent.glob(".*.tmp"))


def test_missing_or_broken_state_reads_as_empty(tmp_path: Path) -> None:
    assert load_state(tmp_path / "absent.json") == InfraState()
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert load_state(broken) == InfraState()


def test_unknown_components_are_ignored() -> None:
    text = '{"components": {"redis": {"mode": "local", "address": "x"}}}'

    assert InfraState.from_json(text) == InfraState()


def test_with_component_replaces_and_removes() -> None:
    entry = ComponentState(Mode.LOCAL, "127.0.0.1:9092", "up", 7, "4.3.1")
    state = InfraState().with_component(Component.KAFKA, entry)

    assert state.components == {Component.KAFKA: entry}
    assert state.with_component(Component.KAFKA, None) == InfraState()
