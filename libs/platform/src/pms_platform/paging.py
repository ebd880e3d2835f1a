"""Headers of a paged list: ``X-Total-Count`` and ``Link`` (RFC 8288: first, prev,
next, last), the same in every service that answers pages."""

from starlette.datastructures import URL

TOTAL_COUNT_HEADER = "X-Total-Count"
LINK_HEADER = "Link"


def link_header(url: URL, page: int, size: int, total: int) -> str | None:
    """Links relative to the request's own path and query, with only ``page`` changed."""
    last = max(1, -(-total // size))
    pages = {"first": 1, "last": last}
    if page > 1:
        pages["prev"] = min(page - 1, last)
    if page < last:
        pages["next"] = page + 1
    links = []
    for relation, number in pages.items():
        target = url.include_query_params(page=number, size=size)
        relative = target.path + ("?" + target.query if target.query else "")
        links.append(f'<{relative}>; rel="{relation}"')
    return ", ".join(links) if links else None
