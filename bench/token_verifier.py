"""Token verifications per second on one core, in the platform verifier.

Two figures: a full check (signature, algorithm, kid, iss, aud, exp, claims) of a token
seen for the first time, and a repeated token, which the verifier answers from its cache
until the token expires. Run: ``uv run python bench/token_verifier.py``.
"""

import asyncio
import time

from pms_platform.security import Role
from pms_testing.tokens import TokenMinter


async def rate(count: int, tokens: list[str], fresh_verifier: bool) -> float:
    minter = MINTER
    verifier = minter.verifier()
    started = time.process_time()
    for index in range(count):
        if fresh_verifier and index % len(tokens) == 0:
            verifier = minter.verifier()  # an empty cache: every token is checked in full
        await verifier.verify(tokens[index % len(tokens)])
    return count / (time.process_time() - started)


MINTER = TokenMinter()


async def main() -> None:
    tokens = [MINTER.mint(Role.CLINICIAN, email=f"user{n}@test.com") for n in range(2000)]
    await rate(2000, tokens, fresh_verifier=True)  # warm-up
    full = await rate(20_000, tokens, fresh_verifier=True)
    cached = await rate(200_000, tokens[:10], fresh_verifier=False)
    print(f"full verification: {full:,.0f} per second per core (CPU time)")
    print(f"repeated token (cache): {cached:,.0f} per second per core (CPU time)")


if __name__ == "__main__":
    asyncio.run(main())
