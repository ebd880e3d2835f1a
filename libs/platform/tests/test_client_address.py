"""The client's address: the TCP peer, X-Forwarded-For only from trusted proxies."""

from ipaddress import ip_network

from pms_platform.request_context import client_address, client_address_of

PROXIES = (ip_network("10.0.0.0/8"),)


def test_the_client_address_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    assert client_address("198.51.100.7", "203.0.113.9", PROXIES) == "198.51.100.7"
    assert client_address("10.1.2.3", "203.0.113.9", PROXIES) == "203.0.113.9"
    assert client_address("10.1.2.3", None, PROXIES) == "10.1.2.3"
    assert client_address(None, None, PROXIES) == "unknown"


def test_only_the_nearest_untrusted_forwarded_address_is_believed() -> None:
    spoofed = "1.2.3.4, 203.0.113.9, 10.0.0.5"
    assert client_address("10.1.2.3", spoofed, PROXIES) == "203.0.113.9"
    assert client_address("10.1.2.3", "not-an-ip", PROXIES) == "10.1.2.3"


def test_the_address_of_an_asgi_scope_is_its_peer_and_its_forwarded_header() -> None:
    forwarded = [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-for", b"1.2.3.4")]
    assert client_address_of({"client": ("10.1.2.3", 5000), "headers": forwarded}, PROXIES) == (
        "203.0.113.9"
    )
    assert client_address_of({"client": ("198.51.100.7", 5000), "headers": forwarded}, PROXIES) == (
        "198.51.100.7"
    )
    assert client_address_of({"client": None, "headers": []}, PROXIES) == "unknown"
