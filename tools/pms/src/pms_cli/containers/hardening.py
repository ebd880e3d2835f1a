"""Proof that the hardening deploy/compose.yaml declares is in force in the running stack.

Every long-running service container is declared with the image's ``user`` (10001),
``read_only: true``, ``tmpfs: [/tmp]``, ``cap_drop: [ALL]`` and
``security_opt: no-new-privileges:true``. One ``podman exec NAME python -c PROBE`` per
container asks the kernel, from inside, with nothing but the image's Python: the
``/proc/PID/status`` of the probe itself and of every other process of the container
(the init, the service's python; their ``Uid``/``Gid``, ``Cap*`` and ``NoNewPrivs``),
the errno of creating a file under ``/`` and ``/app`` (EROFS, the read-only root, before
any permission check), a file written and removed in ``/tmp`` and the filesystem /tmp is.
The probe prints one JSON object; the host judges it, one line per problem.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pms_cli.containers.engine import Runner

SERVICE_UID = "10001"
SERVICE_GID = "10001"
ZERO_CAPS = "0000000000000000"
CAP_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
STATUS_FIELDS = ("Uid", "Gid", "Groups", *CAP_FIELDS, "NoNewPrivs")
READ_ONLY_PATHS = ("/probe", "/app/probe")
"""New files the read-only root must refuse (the kernel says EROFS before EACCES)."""
PROBE_TIMEOUT_SECONDS = 30.0
SERVICE_PROCESS = "python"
"""How the service's own process starts (``python -m pms_<name> serve``): one must be seen."""
SUMMARY = "uid 10001, read-only root, no capabilities, no-new-privileges"

PROBE = """\
import errno, json, os, sys
ASKED = json.loads(sys.argv[1])
FIELDS = ASKED["fields"]
def status(pid):
    found = {}
    with open("/proc/%s/status" % pid) as file:
        for line in file:
            key, _, value = line.partition(":")
            if key in FIELDS:
                found[key] = value.strip()
    return found
def create(path):
    try:
        with open(path, "x") as file:
            file.write("probe")
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    os.remove(path)
    return "written"
processes = []
for entry in sorted(os.listdir("/proc"), key=lambda name: name.zfill(12)):
    if not entry.isdigit() or int(entry) == os.getpid():
        continue
    try:
        with open("/proc/%s/cmdline" % entry, "rb") as file:
            argv = file.read().split(b"\\0")
        found = status(entry)
    except OSError:
        continue  # gone meanwhile
    command = " ".join(part.decode("utf-8", "replace") for part in argv if part)
    processes.append({"pid": int(entry), "cmd": command[:80], "status": found})
tmp_fs = ""
with open("/proc/self/mounts") as file:
    for line in file:
        parts = line.split()
        if len(parts) > 2 and parts[1] == "/tmp":
            tmp_fs = parts[2]
tmp_file = "/tmp/pms-hardening-probe-%d" % os.getpid()
print(json.dumps({
    "self": status("self"),
    "processes": processes,
    "root_read_only": bool(os.statvfs("/").f_flag & os.ST_RDONLY),
    "creates": {path: create(path) for path in ASKED["read_only"]},
    "tmp": create(tmp_file),
    "tmp_fs": tmp_fs,
}))
"""


def probe_argv(container: str) -> list[str]:
    asked = json.dumps({"fields": STATUS_FIELDS, "read_only": READ_ONLY_PATHS})
    return ["podman", "exec", container, "python", "-c", PROBE, asked]


def verify_hardening(
    run: Runner, containers: Sequence[str], service_process: str | None = SERVICE_PROCESS
) -> list[str]:
    """One line per hardening property not in force in one of ``containers`` (running);
    empty when every one of them holds everywhere. ``service_process``: the program one
    process besides the probe must run (the service itself), None for any."""
    problems: list[str] = []
    for container in containers:
        result = run(probe_argv(container), timeout=PROBE_TIMEOUT_SECONDS)
        if not result.ok:
            problems.append(f"{container}: the hardening probe failed: {result.last_words(2)}")
            continue
        report = parse_report(result.stdout)
        if report is None:
            said = result.stdout.strip().splitlines()[-1:] or ["nothing"]
            problems.append(f"{container}: the hardening probe printed no report ({said[0]})")
            continue
        found = report_problems(report, service_process)
        problems += [f"{container}: {problem}" for problem in found]
    return problems


def parse_report(stdout: str) -> dict[str, Any] | None:
    lines = stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None
    return report if isinstance(report, dict) else None


def runs(command: str, program: str) -> bool:
    words = command.split()
    return bool(words) and words[0].rsplit("/", 1)[-1].startswith(program)


def report_problems(report: Mapping[str, Any], service_process: str | None = None) -> list[str]:
    """What one container's probe report shows out of force (empty: all of it holds)."""
    problems = status_problems("the exec'd probe", report.get("self") or {})
    processes = [p for p in report.get("processes") or [] if isinstance(p, dict)]
    if not processes:
        problems.append("the probe saw no process of the container besides itself")
    elif service_process and not any(
        runs(str(p.get("cmd", "")), service_process) for p in processes
    ):
        problems.append(f"the probe saw no {service_process} process (the service) to check")
    for process in processes:
        subject = f"pid {process.get('pid')} ({process.get('cmd') or '?'})"
        problems += status_problems(subject, process.get("status") or {})
    problems += filesystem_problems(report)
    return problems


def status_problems(subject: str, status: Mapping[str, str]) -> list[str]:
    """User, groups, capabilities and no-new-privileges from one /proc/PID/status."""
    problems: list[str] = []
    for field, wanted in (("Uid", SERVICE_UID), ("Gid", SERVICE_GID)):
        ids = str(status.get(field, "")).split()
        if not ids or set(ids) != {wanted}:
            root = " (root)" if "0" in ids else ""
            shown = "/".join(ids) or "unknown"
            problems.append(f"{subject} runs with {field.lower()} {shown}{root}, not {wanted}")
    if "0" in str(status.get("Groups", "")).split():
        problems.append(f"{subject} is in the supplementary group 0 (root)")
    kept = [
        f"{field} {status.get(field, 'unknown')}"
        for field in CAP_FIELDS
        if status.get(field) != ZERO_CAPS
    ]
    if kept:
        problems.append(f"{subject} has capabilities: {', '.join(kept)}")
    if status.get("NoNewPrivs") != "1":
        shown = status.get("NoNewPrivs", "unknown")
        problems.append(f"{subject} has NoNewPrivs {shown}, not 1 (no-new-privileges is off)")
    return problems


def filesystem_problems(report: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    if report.get("root_read_only") is not True:
        problems.append("the root filesystem is not mounted read-only")
    creates = report.get("creates") or {}
    for path in READ_ONLY_PATHS:
        outcome = creates.get(path, "not tried")
        if outcome == "written":
            problems.append(f"creating {path} succeeded: the root filesystem is writable")
        elif outcome != "EROFS":
            problems.append(f"creating {path} failed with {outcome}, not EROFS (read-only)")
    if report.get("tmp") != "written":
        problems.append(f"writing under /tmp failed: {report.get('tmp', 'not tried')}")
    if report.get("tmp_fs") != "tmpfs":
        mounted = report.get("tmp_fs") or "no mount of its own"
        problems.append(f"the /tmp directory is {mounted}, not a tmpfs")
    return problems
