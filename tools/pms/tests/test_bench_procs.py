"""Reading /proc: listening ports, resident memory, CPU ticks (from sample texts)."""

from pathlib import Path

from pms_cli.bench.procs import (
    parse_cpu_ticks,
    parse_listening_inodes,
    parse_parent_pid,
    parse_rss_kib,
    pids_listening,
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
