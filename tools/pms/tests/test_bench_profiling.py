"""Summarising py-spy's collapsed stacks."""

from pms_cli.bench.profiling import (
    function_of,
    package_of,
    parse_collapsed,
    profile_markdown,
    summarize_stacks,
)

ROOT = "<module> (uvicorn/main.py:1)"
SQLALCHEMY = "execute (/app/.venv/lib/python3.11/site-packages/sqlalchemy/orm/loading.py:10)"
RAW = "\n".join(
    [
        f"{ROOT};run (asyncio/runners.py:118);{SQLALCHEMY} 30",
        f"{ROOT};handle (/work/main/services/gateway/src/pms_gateway/proxy.py:99) 10",
        f"{ROOT};dumps (/usr/lib/python3.11/json/encoder.py:200) 10",
        "broken line without count",
    ]
)


def test_collapsed_stacks_are_frames_root_first_with_counts() -> None:
    stacks = parse_collapsed(RAW)
    assert len(stacks) == 3
    frames, count = stacks[0]
    assert count == 30
    assert frames[0] == "<module> (uvicorn/main.py:1)"


def test_frames_map_to_their_top_level_package() -> None:
    assert package_of("f (/x/site-packages/sqlalchemy/orm/loading.py:10)") == "sqlalchemy"
    assert package_of("f (/work/main/services/gateway/src/pms_gateway/proxy.py:9)") == (
        "pms_gateway"
    )
    assert package_of("f (/usr/lib/python3.11/json/encoder.py:200)") == "json"
    assert package_of("f (asyncio/runners.py:118)") == "asyncio"
    assert function_of("f (/x/site-packages/aiohttp/client.py:5)") == "f (aiohttp/client.py)"


def test_summary_shares_self_time_by_package_and_function() -> None:
    summary = summarize_stacks(parse_collapsed(RAW))
    assert summary["samples"] == 50
    assert summary["self_by_package_percent"] == [
        ("sqlalchemy", 60.0),
        ("pms_gateway", 20.0),
        ("json", 20.0),
    ]
    assert summary["self_by_function_percent"][0] == ("execute (sqlalchemy/orm/loading.py)", 60.0)


def test_profile_markdown_lists_each_phase_and_the_import_costs() -> None:
    summary = summarize_stacks(parse_collapsed(RAW))
    page = profile_markdown(
        {
            "cpu": {"read": {"description": "reads", "load": {}, "patients": summary}},
            "imports": {
                "bare_interpreter_mb": 9.5,
                "app": {"patients": {"rss_mb": 110.0, "cpu_seconds": 1.2}},
                "library": {"sqlalchemy": {"rss_mb": 40.0, "cpu_seconds": 0.3}},
            },
        }
    )
    assert "### CPU under reads" in page
    assert "**patients** (50 samples holding the GIL)" in page
    assert "sqlalchemy 60.0 %" in page
    assert "| patients | 110.0 | 1.2 |" in page
    assert "| sqlalchemy | 40.0 | 0.3 |" in page
