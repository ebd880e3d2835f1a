"""The processes behind local ports, and what they use: resident memory (``VmRSS``)
and CPU time (``utime + stime``), all read from ``/proc`` (Linux only)."""

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TCP_LISTEN = "0A"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_listening_inodes(table: str) -> dict[int, int]:
    """From the text of ``/proc/net/tcp`` or ``tcp6``: listening port -> socket inode."""
    found: dict[int, int] = {}
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != TCP_LISTEN:
            continue
        port = int(fields[1].rsplit(":", 1)[1], 16)
        found.setdefault(port, int(fields[9]))
    return found


def listening_inodes(proc: Path = PROC) -> dict[int, set[int]]:
    """Every listening TCP port of this machine -> its socket inodes (IPv4 and IPv6)."""
    inodes: dict[int, set[int]] = {}
    for name in ("tcp", "tcp6"):
        try:
            text = (proc / "net" / name).read_text()
        except OSError:
            continue
        for port, inode in parse_listening_inodes(text).items():
            inodes.setdefault(port, set()).add(inode)
    return inodes


def _socket_inodes_of(pid_dir: Path) -> set[int]:
    inodes: set[int] = set()
    try:
        entries = list((pid_dir / "fd").iterdir())
    except OSError:
        return inodes
    for entry in entries:
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def pids_listening(ports: Iterable[int], proc: Path = PROC) -> dict[int, list[int]]:
    """Port -> the PIDs that hold its listening socket (several with forked workers);
    ports nobody listens on are left out."""
    by_port = listening_inodes(proc)
    wanted = {port: by_port[port] for port in ports if port in by_port}
    result: dict[int, list[int]] = {}
    if not wanted:
        return result
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        held = _socket_inodes_of(pid_dir)
        for port, inodes in wanted.items():
            if held & inodes:
                result.setdefault(port, []).append(int(pid_dir.name))
    return {port: sorted(pids) for port, pids in result.items()}


def ports_listening(ports: Iterable[int], proc: Path = PROC) -> list[int]:
    """Which of ``ports`` something listens on (no PID lookup, so no privileges needed)."""
    by_port = listening_inodes(proc)
    return [port for port in ports if port in by_port]


def parse_rss_kib(status_text: str) -> int:
    """``VmRSS`` in KiB from the text of ``/proc/<pid>/status`` (0 if absent)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def parse_cpu_ticks(stat_text: str, *, reaped_children: bool = False) -> int:
    """``utime + stime`` (clock ticks) from the text of ``/proc/<pid>/stat``, plus
    ``cutime + cstime`` (children that exited and were waited for) if asked. The command
    name may contain spaces and parentheses, so fields are counted after the last ``)``."""
    fields = stat_text[stat_text.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of the file); utime, stime, cutime, cstime are 14-17.
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def parse_parent_pid(stat_text: str) -> int:
    return int(stat_text[stat_text.rindex(")") + 2 :].split()[1])


def rss_mb(pid: int, proc: Path = PROC) -> float:
    """Resident memory in MB (10^6 bytes, as the targets are written)."""
    try:
        return parse_rss_kib((proc / str(pid) / "status").read_text()) * 1024 / 1e6
    except OSError:
        return 0.0


def cpu_seconds(pid: int, proc: Path = PROC, *, reaped_children: bool = False) -> float:
    try:
        text = (proc / str(pid) / "stat").read_text()
        return parse_cpu_ticks(text, reaped_children=reaped_children) / CLOCK_TICKS
    except (OSError, ValueError):
        return 0.0


def children_of(parent: int, proc: Path = PROC) -> list[int]:
    """Direct children of ``parent`` (e.g. PostgreSQL's backends under the postmaster)."""
    children = []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            if parse_parent_pid((pid_dir / "stat").read_text()) == parent:
                children.append(int(pid_dir.name))
        except (OSError, ValueError):
            continue
    return children


@dataclass(frozen=True)
class Watched:
    """A named group of processes (those listening on ``port``, or given by PID) whose
    memory and CPU are reported together. With ``with_children`` (PostgreSQL: one backend
    process per connection; a PID given, whose JVM may be a launcher script's child) the
    figures include the direct children alive now, and the CPU those already reaped."""

    name: str
    port: int | None
    pids: tuple[int, ...]
    with_children: bool = False

    def rss_mb(self) -> float:
        own = sum(rss_mb(pid) for pid in self.pids)
        if not self.with_children:
            return own
        return own + sum(rss_mb(c) for pid in self.pids for c in children_of(pid))

    def cpu_seconds(self) -> float:
        total = sum(cpu_seconds(pid, reaped_children=self.with_children) for pid in self.pids)
        if self.with_children:
            total += sum(cpu_seconds(c) for pid in self.pids for c in children_of(pid))
        return total

    def describe(self) -> dict[str, object]:
        return {"port": self.port, "pids": list(self.pids)}


class WatchError(ValueError):
    """A process asked for by ``--watch-port`` / ``--watch-pid`` is not there."""


def watch(ports: dict[str, int], with_children: Iterable[str] = ()) -> list[Watched]:
    """The processes listening on each named port; names whose port nobody listens on
    are left out."""
    found = pids_listening(ports.values())
    extend = set(with_children)
    return [
        Watched(name, port, tuple(found[port]), name in extend)
        for name, port in ports.items()
        if found.get(port)
    ]


def watch_given(ports: dict[str, int], pids: dict[str, int], proc: Path = PROC) -> list[Watched]:
    """The processes a person named (``--watch-port NAME=PORT``, ``--watch-pid NAME=PID``:
    that process and its children); one that is not there is an error, not a silent gap
    in the report."""
    found = pids_listening(ports.values(), proc) if ports else {}
    missing = [
        f"nothing listens on port {port} ({name})"
        for name, port in ports.items()
        if not found.get(port)
    ]
    missing += [
        f"no process {pid} ({name})" for name, pid in pids.items() if not (proc / str(pid)).is_dir()
    ]
    if missing:
        raise WatchError("cannot watch: " + "; ".join(missing))
    return [Watched(name, port, tuple(found[port])) for name, port in ports.items()] + [
        Watched(name, None, (pid,), with_children=True) for name, pid in pids.items()
    ]


def parse_named_numbers(values: Iterable[str], what: str) -> dict[str, int]:
    """``["gateway=4004", ...]`` -> ``{"gateway": 4004}``; ``what`` names the number in
    the error (``port``, ``PID``)."""
    parsed: dict[str, int] = {}
    for value in values:
        name, separator, number = value.partition("=")
        name, number = name.strip(), number.strip()
        if not separator or not name or not number.isdigit() or int(number) <= 0:
            raise ValueError(f"{value!r} is not NAME={what} (e.g. gateway=4004)")
        if name in parsed:
            raise ValueError(f"{name} is given twice")
        parsed[name] = int(number)
    return parsed


def cpu_snapshot(watched: Iterable[Watched]) -> dict[str, float]:
    return {w.name: w.cpu_seconds() for w in watched}


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
