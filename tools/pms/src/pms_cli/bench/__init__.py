"""``pms bench``: the platform's benchmark suite.

The HTTP scenarios speak only to a base URL with login credentials, so the same
scenarios run against any implementation of the public API (the original Java
system included). Load comes from native generators (wrk for closed-loop peaks,
oha for fixed request rates corrected for coordinated omission); Python only
orchestrates, measures lag and writes the results under ``bench/results/``.
"""
