"""Headers of a paged list: ``X-Total-Count`` and ``Link`` (RFC 8288: first, prev,
next, last), the same in every service that answers pages."""

from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL

TOTAL_COUNT_HEADER = "X-Total-Count"
LINK_HEADER = "Link"


def link_header(url: URL, page: int, size: int, total: int) -> str:
    """Links that are the request's own query with only ``page`` changed (see
    :func:`link_header_of_query`)."""
    return link_header_of_query(url.query, page, size, total)


def link_header_of_query(query: str, page: int, size: int, total: int) -> str:
    """Links that are the request's own ``query`` (its decoded query string) with only
    ``page`` changed.

    Each target is a query-only reference (``<?page=2&size=5>``), which RFC 3986 resolves
    against the URL the client asked for: through the gateway that is ``/api/patients``,
    straight to the service ``/patients``, behind any other proxy its own path. A path in
    the link would be the service's own, which no client of the gateway can follow."""
    last = max(1, -(-total // size))
    pages = {"first": 1, "last": last}
    if page > 1:
        pages["prev"] = min(page - 1, last)
    if page < last:
        pages["next"] = page + 1
    # What ``url.include_query_params(page=..., size=...)`` gives (the other parameters
    # in their order, then page and size), with the query parsed once instead of per link.
    kept = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name not in ("page", "size")
    ]
    links = [
        f'<?{urlencode([*kept, ("page", str(number)), ("size", str(size))])}>; rel="{relation}"'
        for relation, number in pages.items()
    ]
    return ", ".join(links)
