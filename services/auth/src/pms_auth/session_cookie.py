"""The browser's session: the refresh token as an ``HttpOnly; Secure; SameSite=Strict``
cookie that only the session endpoints see, so that a web page keeps its session across a
reload without any script of it holding the refresh token.

The endpoints are in :mod:`pms_auth.api`. A login asks for it with the
``X-Refresh-Cookie`` header (the JSON answer is the same either way);
``POST /session/refresh`` rotates it and answers the new pair as ``/refresh`` does;
``POST /session/logout`` revokes its family and clears it. The JSON ``/refresh`` and
``/logout`` do not read it: other clients see no change.
"""

from typing import Annotated

from fastapi import Cookie, Response

from pms_auth.authentication import IssuedTokens
from pms_auth.settings import AuthSettings

REFRESH_COOKIE = "pms_refresh"
REFRESH_COOKIE_HEADER = "X-Refresh-Cookie"

RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, include_in_schema=False)]


def set_refresh_cookie(response: Response, settings: AuthSettings, issued: IssuedTokens) -> None:
    """The refresh token as the session cookie, on the session endpoints' path only."""
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=issued.refresh_expires_in,
        path=settings.refresh_cookie_path,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, settings: AuthSettings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=settings.refresh_cookie_path,
        secure=True,
        httponly=True,
        samesite="strict",
    )
