"""How many requests one client may have in flight at the gateway at once.

Rate limits count requests as they start; they cannot see a client that starts few but
keeps each open for long (slow uploads, slow reads), which is how one user held every
connection to an upstream. This counts the requests still running, per client: the
user id of a verified token, else the client address. Like the rate limits it is per
process: with ``workers`` processes a client may have that many times the limit.
"""


class ConcurrencyLimiter:
    """At most ``limit`` requests in flight per key. A key leaves the table when its
    count falls to zero, so memory follows the requests in flight, not every client
    ever seen."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight: dict[str, int] = {}

    def try_acquire(self, key: str) -> bool:
        """Take a place for ``key``; ``False`` (and nothing taken) when it has none left."""
        count = self._in_flight.get(key, 0)
        if count >= self.limit:
            return False
        self._in_flight[key] = count + 1
        return True

    def release(self, key: str) -> None:
        count = self._in_flight.get(key, 0) - 1
        if count > 0:
            self._in_flight[key] = count
        else:
            self._in_flight.pop(key, None)

    def in_flight(self, key: str) -> int:
        return self._in_flight.get(key, 0)
