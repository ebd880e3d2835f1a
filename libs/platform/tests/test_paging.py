from starlette.datastructures import URL

from pms_platform.paging import link_header


def test_a_middle_page_links_to_all_four_neighbours() -> None:
    link = link_header(URL("http://x/patients?search=doe&page=2&size=10"), 2, 10, 35)
    assert link is not None
    assert '</patients?search=doe&page=1&size=10>; rel="first"' in link
    assert '</patients?search=doe&page=1&size=10>; rel="prev"' in link
    assert '</patients?search=doe&page=3&size=10>; rel="next"' in link
    assert '</patients?search=doe&page=4&size=10>; rel="last"' in link


def test_the_last_page_has_no_next() -> None:
    link = link_header(URL("http://x/patients?page=4&size=10"), 4, 10, 35)
    assert link is not None
    assert 'rel="next"' not in link
    assert 'rel="prev"' in link


def test_an_empty_list_has_one_page() -> None:
    link = link_header(URL("http://x/patients"), 1, 50, 0)
    assert link == '</patients?page=1&size=50>; rel="first", </patients?page=1&size=50>; rel="last"'
