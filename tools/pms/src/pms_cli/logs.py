"""``pms logs NAME``: one service's log, as ``pms up`` wrote it, optionally followed; at a
terminal in the same readable lines as ``pms up`` shows (``PMS_LOG_VIEW=json`` for the raw
lines, as a pipe gets them)."""

import time
from pathlib import Path

from rich.console import Console

from pms_cli.log_lines import readable_line, readable_view_wanted


def show_log(console: Console, path: Path, follow: bool, lines: int) -> None:
    if not path.exists():
        console.print(f"No log at {path}: has `pms up` run this service yet?")
        return
    readable = readable_view_wanted(console.is_terminal)
    service = path.stem

    def show(line: str) -> None:
        line = line.rstrip("\n")
        if not readable:
            console.out(line, highlight=False)
        elif (shown := readable_line(line, service, "bold")) is not None:
            console.print(shown, soft_wrap=True, highlight=False)

    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log.readlines()[-lines:]:
            show(line)
        while follow:
            line = log.readline()
            if line:
                show(line)
            else:
                time.sleep(0.2)
