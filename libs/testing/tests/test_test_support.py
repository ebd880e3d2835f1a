"""The test support's own helpers: polling gives up loudly, tokens verify, headers carry
them, the service check reads what a live app serves."""

import pytest

from pms_platform.security import Role
from pms_testing.metrics import metric_value
from pms_testing.polling import eventually
from pms_testing.tokens import TokenMinter, bearer


async def test_eventually_returns_the_first_truthy_result() -> None:
    answers = iter([None, 0, "", "found"])

    async def check() -> str | int | None:
        return next(answers)

    assert await eventually(check, 1.0, interval=0.0) == "found"


async def test_eventually_fails_with_its_description_when_time_runs_out() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(AssertionError, match=r"the account closing did not hold within 0.2 s"):
        await eventually(never, 0.2, description="the account closing")


async def test_a_minted_token_verifies_and_its_header_is_a_bearer_one() -> None:
    minter = TokenMinter()
    principal = await minter.verifier().verify(minter.mint(Role.ANALYST, user_id="u-1"))

    assert (principal.user_id, principal.role) == ("u-1", Role.ANALYST)
    assert bearer("abc") == {"Authorization": "Bearer abc"}
    [header] = minter.authorization(Role.CLINICIAN).values()
    assert header.startswith("Bearer ey")


def test_metric_value_reads_one_labelled_sample() -> None:
    text = 'http_requests_total{route="/a",status="200"} 3.0\nhttp_requests_total 9.0\n'

    assert metric_value(text, "http_requests_total", route="/a") == 3.0
    assert metric_value(text, "http_requests_total", route="/b") == 0.0
