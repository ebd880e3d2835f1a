"""`pms bench` as the launcher mounts it (no load: only help and re-rendering)."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from pms_cli.bench.commands import bench_app

from .test_bench_report import sample


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(bench_app, name="bench")

    @app.command()
    def other() -> None:  # a second command, as in the real launcher
        """Something else."""

    return app


def test_bench_mounts_as_a_command_with_its_options() -> None:
    result = CliRunner().invoke(_app(), ["bench", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--quick", "--target", "--user", "--password", "--scenarios", "--profile"):
        assert option in result.output


def test_unknown_scenarios_are_a_usage_error() -> None:
    result = CliRunner().invoke(_app(), ["bench", "--scenarios", "nope"])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output


def test_render_writes_markdown_again_from_a_saved_result(tmp_path: Path) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(sample()))
    result = CliRunner().invoke(_app(), ["bench", "--render", str(saved)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run.md").read_text().startswith("# pms bench:")
    assert (tmp_path / "latest.md").exists()
