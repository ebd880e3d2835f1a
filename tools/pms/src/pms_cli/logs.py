"""``pms logs NAME``: one service's log, as ``pms up`` wrote it, optionally followed."""

import time
from pathlib import Path

from rich.console import Console


def show_log(console: Console, path: Path, follow: bool, lines: int) -> None:
    if not path.exists():
        console.print(f"No log at {path}: has `pms up` run this service yet?")
        return
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log.readlines()[-lines:]:
            console.out(line.rstrip("\n"), highlight=False)
        while follow:
            line = log.readline()
            if line:
                console.out(line.rstrip("\n"), highlight=False)
            else:
                time.sleep(0.2)
