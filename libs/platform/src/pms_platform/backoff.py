"""Pauses that grow while nothing changes: the wait before a retry after a failure, and
the wait between safety looks of a worker that is otherwise woken by an event
(``NOTIFY``, the broker). A worker with nothing to do then wakes rarely: its idle cost
falls towards zero, while anything that happens still wakes it at once.
"""


class Backoff:
    """``initial`` seconds, then twice as long each time up to ``maximum``;
    :meth:`reset` starts again from ``initial`` (something happened)."""

    def __init__(self, initial: float, maximum: float) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("a backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next_pause(self) -> float:
        """The pause to take now; the one after it is twice as long (up to the maximum)."""
        pause = self._next
        self._next = min(self._next * 2, self.maximum)
        return pause

    def reset(self) -> None:
        self._next = self.initial
