"""Finding the repository root and the state folder."""

from pathlib import Path

import pytest

from pms_cli.infra.paths import find_repo_root, infra_paths, state_dir

WORKSPACE = '[project]\nname = "root"\n\n[tool.uv.workspace]\nmembers = ["libs/*"]\n'
MEMBER = '[project]\nname = "member"\n'


def test_repo_root_is_the_nearest_workspace_root_above(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(WORKSPACE)
    member = tmp_path / "libs" / "thing"
    (member / "src").mkdir(parents=True)
    (member / "pyproject.toml").write_text(MEMBER)

    assert find_repo_root(member / "src") == tmp_path
    assert find_repo_root(tmp_path) == tmp_path


def test_repo_root_falls_back_to_the_start_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(MEMBER)

    assert find_repo_root(tmp_path) == tmp_path


def test_state_lives_in_dot_pms_of_the_repo_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(WORKSPACE)
    (tmp_path / "sub").mkdir()

    paths = infra_paths(None, start=tmp_path / "sub")

    assert paths.state_dir == tmp_path / ".pms"
    assert paths.state_file == tmp_path / ".pms" / "infra.json"
    assert paths.postgres_data_dir.is_relative_to(paths.state_dir)
    assert paths.kafka_data_dir.is_relative_to(paths.state_dir)


def test_state_dir_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert infra_paths(tmp_path / "elsewhere").state_dir == tmp_path / "elsewhere"
    monkeypatch.setenv("PMS_STATE_DIR", str(tmp_path / "state"))
    assert state_dir() == tmp_path / "state"
