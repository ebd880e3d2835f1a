"""Progress output: concise, on stderr, so stdout stays free for `env` and the child command.

A caller of the Python API may pass its own rich console; `using_console` routes the
messages of one call (and the tasks it starts) there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rich.console import Console
from rich.text import Text

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)
_current: ContextVar[Console | None] = ContextVar("pms_infra_console", default=None)


def _console() -> Console:
    return _current.get() or _stderr


@contextmanager
def using_console(console: Console | None) -> Iterator[None]:
    """Send progress messages to ``console`` within this block (``None``: keep stderr)."""
    if console is None:
        yield
        return
    token = _current.set(console)
    try:
        yield
    finally:
        _current.reset(token)


def step(message: str) -> None:
    """Print one progress line (taken literally: log excerpts may contain brackets)."""
    _console().print(Text.assemble(("infra ", "dim"), message))


def warn(message: str) -> None:
    """Print a warning that does not stop anything."""
    _console().print(Text.assemble(("infra ", "yellow"), message))


def error(message: str) -> None:
    """Print an error that ends the command."""
    _console().print(Text.assemble(("error ", "bold red"), message))
