from starlette.datastructures import URL

from pms_platform.paging import link_header


def test_a_middle_page_links_to_all_four_neighbours() -> None:
    link = link_header(URL("http://x/patients?search=doe&page=2&size=10"), 2, 10, 35)
    assert link is not None
    assert '<?search=doe&page=1&size=10>; rel="first"' in link
    assert '<?search=doe&page=1&size=10>; rel="prev"' in link
    assert '<?search=doe&page=3&size=10>; rel="next"' in link
    assert '<?search=doe&page=4&size=10>; rel="last"' in link


def test_the_last_page_has_no_next() -> None:
    link = link_header(URL("http://x/patients?page=4&size=10"), 4, 10, 35)
    assert link is not None
    assert 'rel="next"' not in link
    assert 'rel="prev"' in link


def test_an_empty_list_has_one_page() -> None:
    link = link_header(URL("http://x/patients"), 1, 50, 0)
    assert link == '<?page=1&size=50>; rel="first", <?page=1&size=50>; rel="last"'


def _starlette_links(url: URL, page: int, size: int, total: int) -> str:
    """The links as they were built before: one ``include_query_params`` per link."""
    last = max(1, -(-total // size))
    pages = {"first": 1, "last": last}
    if page > 1:
        pages["prev"] = min(page - 1, last)
    if page < last:
        pages["next"] = page + 1
    links = []
    for relation, number in pages.items():
        target = url.include_query_params(page=number, size=size)
        links.append(f'<?{target.query}>; rel="{relation}"')
    return ", ".join(links)


def test_links_keep_the_other_parameters_in_their_order_as_starlette_does() -> None:
    queries = [
        "",
        "?page=2&size=7",
        "?size=5&size=6&page=3",
        "?search=J%C3%B6rg+M%C3%BCller&sort=-name",
        "?sort=email&search=a%26b%3Dc&page=1",
        "?flag&empty=&search=%25_",
    ]
    for query in queries:
        for page, size, total in [(1, 50, 0), (2, 7, 30), (3, 6, 230), (9, 10, 35)]:
            url = URL(f"http://x/patients{query}")
            assert link_header(url, page, size, total) == _starlette_links(url, page, size, total)
