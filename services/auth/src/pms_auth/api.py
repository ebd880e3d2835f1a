"""The auth service's HTTP endpoints: thin, they parse, call the ``Authentication``
flows (login, refresh, logout) or the ``UserService`` (users, ``/me``), shape answers."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from pms_auth.authentication import Authentication, IssuedTokens
from pms_auth.schemas import (
    LoginIn,
    LogoutIn,
    PasswordIn,
    RefreshIn,
    TokenInfoOut,
    TokenPairOut,
    UserCreate,
    UserOut,
    UserPageQuery,
    UserPatch,
)
from pms_auth.service import UserService
from pms_auth.session_cookie import (
    REFRESH_COOKIE_HEADER,
    RefreshCookie,
    clear_refresh_cookie,
    set_refresh_cookie,
)
from pms_auth.settings import AuthSettings
from pms_platform.db import SessionDep
from pms_platform.errors import (
    ROLE_REFUSALS,
    TOKEN_REFUSALS,
    BadRequestError,
    ConflictError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
    problem_responses,
)
from pms_platform.paging import TOTAL_COUNT_HEADER
from pms_platform.request_context import client_address_of
from pms_platform.security import (
    CurrentPrincipal,
    Principal,
    Role,
    TokenVerifier,
    authorize,
    require_roles,
)


async def _authentication(request: Request) -> Authentication:
    authentication: Authentication = request.app.state.authentication
    return authentication


async def _user_service(request: Request) -> UserService:
    service: UserService = request.app.state.user_service
    return service


async def _client_address(request: Request) -> str:
    settings: AuthSettings = request.app.state.settings
    return client_address_of(request.scope, settings.trusted_proxies)


AuthenticationDep = Annotated[Authentication, Depends(_authentication)]
UserServiceDep = Annotated[UserService, Depends(_user_service)]
ClientAddress = Annotated[str, Depends(_client_address)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

router = APIRouter(tags=["auth"])


def _pair(issued: IssuedTokens) -> TokenPairOut:
    return TokenPairOut(
        token=issued.access_token,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.access_expires_in,
        refresh_expires_in=issued.refresh_expires_in,
    )


@router.post(
    "/login",
    summary="Exchange email and password for tokens",
    responses=problem_responses(
        BadRequestError,
        UnauthorizedError,
        TooManyRequestsError,
        descriptions={
            401: "Invalid email or password",
            429: "Too many failed logins; see Retry-After",
        },
    ),
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    authentication: AuthenticationDep,
    address: ClientAddress,
    refresh_cookie: Annotated[
        str | None,
        Header(
            alias=REFRESH_COOKIE_HEADER,
            description="Any value: the refresh token is also set as the session cookie "
            "(HttpOnly, Secure, SameSite=Strict) that only /session/* see",
        ),
    ] = None,
) -> TokenPairOut:
    issued = await authentication.login(body.email, body.password, address)
    if refresh_cookie:
        set_refresh_cookie(response, request.app.state.settings, issued)
    return _pair(issued)


@router.get(
    "/validate", summary="Check an access token", responses=problem_responses(*TOKEN_REFUSALS)
)
async def validate(principal: CurrentPrincipal) -> TokenInfoOut:
    return TokenInfoOut(
        sub=principal.user_id,
        email=principal.email,
        role=principal.role,
        expires_at=principal.expires_at,
    )


@router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair",
    responses=problem_responses(
        BadRequestError, UnauthorizedError, descriptions={401: "The refresh token is not valid"}
    ),
)
async def refresh(body: RefreshIn, authentication: AuthenticationDep) -> TokenPairOut:
    return _pair(await authentication.refresh(body.refresh_token))


@router.post(
    "/logout",
    status_code=204,
    summary="End a session: revoke its refresh tokens",
    description=(
        "With `refreshToken` in the body, revokes that token's family (no access token "
        "needed). Without it, revokes the family the bearer access token was issued with. "
        "Access tokens already issued stay valid until they expire."
    ),
    responses=problem_responses(
        BadRequestError,
        UnauthorizedError,
        descriptions={401: "Neither a refresh token nor a valid access token"},
    ),
)
async def logout(
    request: Request, authentication: AuthenticationDep, body: LogoutIn | None = None
) -> None:
    if body is not None and body.refresh_token:
        await authentication.logout(refresh_token=body.refresh_token, user_id=None, session_id=None)
        return
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await authorize(request.headers.get("authorization"), verifier)
    await authentication.logout(
        refresh_token=None,
        user_id=uuid.UUID(principal.user_id),
        session_id=_session_id(principal),
    )


@router.post(
    "/session/refresh",
    summary="Exchange the session cookie's refresh token for a new pair (a browser's)",
    response_model=TokenPairOut,
    responses={
        204: {"description": "No session cookie: there is no session to resume"},
        **problem_responses(
            UnauthorizedError, descriptions={401: "The session cookie's token is not valid"}
        ),
    },
)
async def refresh_session(
    request: Request,
    response: Response,
    authentication: AuthenticationDep,
    refresh_token: RefreshCookie = None,
) -> TokenPairOut | Response:
    if not refresh_token:
        return Response(status_code=204)
    issued = await authentication.refresh(refresh_token)
    set_refresh_cookie(response, request.app.state.settings, issued)
    return _pair(issued)


@router.post(
    "/session/logout",
    status_code=204,
    summary="End the session cookie's session, and clear the cookie",
)
async def logout_session(
    request: Request,
    response: Response,
    authentication: AuthenticationDep,
    refresh_token: RefreshCookie = None,
) -> None:
    if refresh_token:
        await authentication.logout(refresh_token=refresh_token, user_id=None, session_id=None)
    clear_refresh_cookie(response, request.app.state.settings)


def _session_id(principal: Principal) -> uuid.UUID | None:
    """The session (refresh token family) the verified access token was issued with."""
    try:
        return uuid.UUID(principal.session_id) if principal.session_id else None
    except ValueError:
        return None


@router.get("/.well-known/jwks.json", summary="The public keys that verify access tokens")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    # Verifiers fetch again on an unknown key id anyway, so a short cache is safe.
    response.headers["Cache-Control"] = "public, max-age=300"
    document: dict[str, Any] = request.app.state.key_set.jwks()
    return document


@router.get(
    "/me",
    summary="The caller's account",
    tags=["users"],
    responses=problem_responses(*TOKEN_REFUSALS),
)
async def me(principal: CurrentPrincipal, session: SessionDep, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(await users.me(session, principal))


users_router = APIRouter(prefix="/users", tags=["users"])


@users_router.post(
    "",
    status_code=201,
    summary="Create a user (ADMIN)",
    responses=problem_responses(
        BadRequestError,
        *ROLE_REFUSALS,
        ConflictError,
        descriptions={409: "Email address already exists"},
    ),
)
async def create_user(
    body: UserCreate, admin: Admin, session: SessionDep, users: UserServiceDep, response: Response
) -> UserOut:
    user = await users.create(session, body, admin)
    response.headers["Location"] = f"/users/{user.id}"
    return UserOut.model_validate(user)


@users_router.get(
    "",
    summary="List users, a page at a time (ADMIN)",
    responses=problem_responses(BadRequestError, *ROLE_REFUSALS),
)
async def list_users(
    _admin: Admin,
    session: SessionDep,
    users: UserServiceDep,
    response: Response,
    query: Annotated[UserPageQuery, Query()],
) -> list[UserOut]:
    found, total = await users.page(session, query)
    response.headers[TOTAL_COUNT_HEADER] = str(total)
    return [UserOut.model_validate(user) for user in found]


@users_router.get(
    "/{user_id}",
    summary="One user (ADMIN)",
    responses=problem_responses(
        BadRequestError, *ROLE_REFUSALS, NotFoundError, descriptions={404: "User not found"}
    ),
)
async def get_user(
    user_id: uuid.UUID, _admin: Admin, session: SessionDep, users: UserServiceDep
) -> UserOut:
    return UserOut.model_validate(await users.get(session, user_id))


@users_router.patch(
    "/{user_id}",
    summary="Change a user's role or disable them (ADMIN)",
    responses=problem_responses(
        BadRequestError,
        *ROLE_REFUSALS,
        NotFoundError,
        ConflictError,
        descriptions={
            404: "User not found",
            409: "At least one enabled administrator must remain",
        },
    ),
)
async def update_user(
    user_id: uuid.UUID, body: UserPatch, admin: Admin, session: SessionDep, users: UserServiceDep
) -> UserOut:
    return UserOut.model_validate(await users.update(session, user_id, body, admin))


@users_router.post(
    "/{user_id}/password",
    status_code=204,
    summary="Set a password (ADMIN)",
    responses=problem_responses(
        BadRequestError, *ROLE_REFUSALS, NotFoundError, descriptions={404: "User not found"}
    ),
)
async def set_password(
    user_id: uuid.UUID, body: PasswordIn, admin: Admin, session: SessionDep, users: UserServiceDep
) -> None:
    await users.set_password(session, user_id, body.password, admin)
