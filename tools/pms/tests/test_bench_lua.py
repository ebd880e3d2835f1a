"""The wrk Lua scripts that `pms bench` generates (text only: no load is sent)."""

import re

import pytest

from pms_cli.bench.lua import (
    MIX_CREATES,
    MIX_CYCLE,
    MIX_READS,
    RESULT_MARKER,
    UpdateTarget,
    create_script,
    get_script,
    login_script,
    lua_headers,
    lua_string,
    mixed_script,
)


def test_lua_string_escapes_quotes_backslashes_and_non_ascii_bytes() -> None:
    assert lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert lua_string("line\nnext") == '"line\\10next"'
    assert lua_string("é") == '"\\195\\169"'  # UTF-8 bytes, decimal escapes


def test_lua_headers_is_a_table_constructor() -> None:
    assert lua_headers({"Authorization": "Bearer x"}) == '{["Authorization"] = "Bearer x"}'


@pytest.mark.parametrize(
    "script",
    [
        get_script("/api/patients", "tok"),
        create_script("/api/patients", "tok", "run1"),
        login_script("/auth/login", "a@example.com", "pw"),
        mixed_script("/api/patients", "tok", "run1", [UpdateTarget("id-1", "a@example.com")]),
    ],
)
def test_every_script_counts_statuses_per_thread_and_prints_one_result_line(script: str) -> None:
    assert "function response(status, headers, body)" in script
    assert 'thread:get("statuses")' in script
    assert f"io.write(string.format(\n    '{RESULT_MARKER} " in script
    for percentile in ("50", "90", "99", "99.9"):
        assert f"latency:percentile({percentile})" in script


def test_get_script_is_static_with_the_bearer_token() -> None:
    script = get_script("/api/patients", "abc.def")
    assert "function request()" not in script  # wrk formats a static request once
    assert 'wrk.headers["Authorization"] = "Bearer abc.def"' in script
    assert 'wrk.path = "/api/patients"' in script


def test_create_bodies_are_unique_by_run_thread_and_counter() -> None:
    script = create_script("/prefix/api/patients", "tok", "r42")
    assert 'local run_id = "r42"' in script
    assert 'string.format("%s-%d-%d", run_id, thread_id, counter)' in script
    assert "counter = counter + 1" in script
    assert '"email":"bench-\' .. tag .. \'@example.com"' in script
    assert 'wrk.format("POST", create_path, write_headers, body)' in script
    assert 'local create_path = "/prefix/api/patients"' in script


def test_login_body_is_json_with_escaped_values() -> None:
    script = login_script("/auth/login", 'we"ird@example.com', "p\\w")
    body = re.search(r"wrk\.body = (.*)\n", script)
    assert body is not None
    # JSON escapes first ("we\"ird", "p\\w"), then Lua escapes each backslash and quote.
    assert body[1] == r'"{\"email\":\"we\\\"ird@example.com\",\"password\":\"p\\\\w\"}"'
    assert 'wrk.method = "POST"' in script


def test_mixed_cycle_is_80_15_5_percent() -> None:
    assert MIX_READS / MIX_CYCLE == 0.80
    assert MIX_CREATES / MIX_CYCLE == 0.15
    assert (MIX_CYCLE - MIX_READS - MIX_CREATES) / MIX_CYCLE == 0.05
    script = mixed_script(
        "/api/patients",
        "tok",
        "r1",
        [UpdateTarget("11111111-aaaa", "one@example.com"), UpdateTarget("2222", "two@example.com")],
    )
    assert f"slot = (slot % {MIX_CYCLE}) + 1" in script
    assert f"if slot <= {MIX_READS} then" in script
    assert f"elseif slot <= {MIX_READS + MIX_CREATES} then" in script
    assert '{id = "11111111-aaaa", email = "one@example.com"}' in script
    assert 'wrk.format("PUT", create_path .. "/" .. target.id, write_headers, body)' in script


def test_mixed_needs_a_patient_to_update() -> None:
    with pytest.raises(ValueError, match="at least one patient"):
        mixed_script("/api/patients", "tok", "r1", [])
