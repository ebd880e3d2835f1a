"""Paging through the gateway: a client follows the ``Link`` header the way RFC 8288 says,
resolving each target against the URL it asked for, from the first page to the last."""

import uuid
from urllib.parse import urljoin

import httpx

from pms_testing.patients import patient_body

Headers = dict[str, dict[str, str]]
PATIENTS = 7
PAGE_SIZE = 3


async def _register(gateway: httpx.AsyncClient, headers: dict[str, str], marker: str) -> str:
    response = await gateway.post(
        "/api/patients", json=patient_body(name=f"Pager {marker}"), headers=headers
    )
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


async def test_following_next_through_the_gateway_reaches_the_last_page(
    gateway: httpx.AsyncClient, headers_of: Headers
) -> None:
    clinician = headers_of["CLINICIAN"]
    marker = uuid.uuid4().hex[:12]
    created = {await _register(gateway, clinician, marker) for _ in range(PATIENTS)}

    url: str | None = f"{gateway.base_url}/api/patients?search={marker}&size={PAGE_SIZE}"
    seen: list[str] = []
    pages = 0
    last_url = ""
    while url is not None:
        response = await gateway.get(url, headers=clinician)
        assert response.status_code == 200, (url, response.text)
        assert response.headers["x-total-count"] == str(PATIENTS)
        seen.extend(patient["id"] for patient in response.json())
        pages += 1
        links = response.links
        last_url = urljoin(str(response.url), links["last"]["url"])
        url = urljoin(str(response.url), links["next"]["url"]) if "next" in links else None
        if url is not None:
            # Every link stays on the gateway's own path and keeps the search.
            assert httpx.URL(url).path == "/api/patients"
            assert httpx.URL(url).params["search"] == marker

    assert pages == -(-PATIENTS // PAGE_SIZE)
    assert sorted(seen) == sorted(created)
    assert str(response.url) == last_url
