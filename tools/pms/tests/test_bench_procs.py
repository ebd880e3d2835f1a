"""Reading /proc: listening ports, resident memory, CPU ticks (from sample texts)."""

from pathlib import Path

import pytest

from pms_cli.bench.procs import (
    WatchError,
    parse_cpu_ticks,
    parse_listening_inodes,
    parse_named_numbers,
    parse_parent_pid,
    parse_rss_kib,
    pids_listening,
    watch_given,
)

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0FA4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1
   1: 0100007F:0FA0 0100007F:D2F2 01 00000000:00000000 00:00000000 00000000     0        0 4712 1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4713 1
"""


def test_only_listening_sockets_are_taken_with_their_port_and_inode() -> None:
    # 0x0FA4 = 4004 listening; 0x0FA0 = 4000 is an established connection; 0x1F90 = 8080.
    assert parse_listening_inodes(TCP) == {4004: 4711, 8080: 4713}


def test_pids_are_found_by_the_socket_inode_in_their_fds(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    for pid, inode in ((100, 4711), (200, 9999)):
        fd = tmp_path / str(pid) / "fd"
        fd.mkdir(parents=True)
        (fd / "3").symlink_to(f"socket:[{inode}]")
    (tmp_path / "self").mkdir()  # not a PID: ignored
    assert pids_listening([4004, 8080, 5432], proc=tmp_path) == {4004: [100]}


STAT = "1234 (python -m (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 4 0 99"


def test_cpu_ticks_are_utime_plus_stime_even_with_odd_command_names() -> None:
    assert parse_cpu_ticks(STAT) == 300
    assert parse_cpu_ticks(STAT, reaped_children=True) == 310
    assert parse_parent_pid(STAT) == 1


def test_rss_comes_from_vmrss() -> None:
    assert parse_rss_kib("Name:\tpython\nVmRSS:\t  102400 kB\nThreads:\t4\n") == 102400
    assert parse_rss_kib("Name:\tkthreadd\n") == 0


def test_named_numbers_are_parsed_from_name_equals_number() -> None:
    assert parse_named_numbers(["gateway=4004", " auth = 4005 "], "PORT") == {
        "gateway": 4004,
        "auth": 4005,
    }
    for bad in (["gateway"], ["gateway=x"], ["=4004"], ["gateway=0"], ["a=1", "a=2"]):
        with pytest.raises(ValueError, match=r"NAME=PORT|twice"):
            parse_named_numbers(bad, "PORT")


def test_a_watched_port_or_pid_that_is_not_there_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    fd = tmp_path / "100" / "fd"
    fd.mkdir(parents=True)
    (fd / "3").symlink_to("socket:[4711]")
    watched = watch_given({"gateway": 4004}, {"auth": 100}, proc=tmp_path)
    assert [(w.name, w.port, w.pids, w.with_children) for w in watched] == [
        ("gateway", 4004, (100,), False),
        ("auth", None, (100,), True),
    ]
    with pytest.raises(WatchError, match=r"port 4000 \(patients\).*no process 999 \(billing\)"):
        watch_given({"patients": 4000}, {"billing": 999}, proc=tmp_path)
