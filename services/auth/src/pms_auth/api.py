"""The auth service's HTTP endpoints: thin, they parse, call a service and shape answers."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from pms_auth.lockout import client_address
from pms_auth.schemas import (
    LoginIn,
    LogoutIn,
    PasswordIn,
    RefreshIn,
    TokenInfoOut,
    TokenPairOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from pms_auth.service import AuthService, IssuedTokens
from pms_auth.settings import AuthSettings
from pms_auth.tokens import session_of
from pms_auth.user_service import UserService
from pms_platform.db import SessionDep
from pms_platform.errors import UnauthorizedError
from pms_platform.security import (
    CurrentPrincipal,
    InvalidTokenError,
    Principal,
    Role,
    TokenVerifier,
    bearer_token,
    require_roles,
)

MAX_PAGE_SIZE = 500


def _auth_service(request: Request) -> AuthService:
    service: AuthService = request.app.state.auth_service
    return service


def _user_service(request: Request) -> UserService:
    service: UserService = request.app.state.user_service
    return service


def _client_address(request: Request) -> str:
    settings: AuthSettings = request.app.state.settings
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


AuthServiceDep = Annotated[AuthService, Depends(_auth_service)]
UserServiceDep = Annotated[UserService, Depends(_user_service)]
ClientAddress = Annotated[str, Depends(_client_address)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

_refusals: dict[int | str, dict[str, Any]] = {
    401: {"description": "Invalid credentials or token"},
    429: {"description": "Too many failed logins; see Retry-After"},
}
router = APIRouter(tags=["auth"])


def _pair(issued: IssuedTokens) -> TokenPairOut:
    return TokenPairOut(
        token=issued.access_token,
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.access_expires_in,
        refresh_expires_in=issued.refresh_expires_in,
    )


@router.post("/login", summary="Exchange email and password for tokens", responses=_refusals)
async def login(body: LoginIn, service: AuthServiceDep, address: ClientAddress) -> TokenPairOut:
    return _pair(await service.login(str(body.email), str(body.password), address))


@router.get("/validate", summary="Check an access token", responses=_refusals)
async def validate(principal: CurrentPrincipal) -> TokenInfoOut:
    return TokenInfoOut(
        sub=principal.user_id,
        email=principal.email,
        role=principal.role,
        expires_at=principal.expires_at,
    )


@router.post("/refresh", summary="Exchange a refresh token for a new pair", responses=_refusals)
async def refresh(body: RefreshIn, service: AuthServiceDep) -> TokenPairOut:
    return _pair(await service.refresh(str(body.refresh_token)))


@router.post(
    "/logout",
    status_code=204,
    summary="End a session: revoke its refresh tokens",
    description=(
        "With `refreshToken` in the body, revokes that token's family (no access token "
        "needed). Without it, revokes the family the bearer access token was issued with. "
        "Access tokens already issued stay valid until they expire."
    ),
    responses={401: {"description": "Neither a refresh token nor a valid access token"}},
)
async def logout(request: Request, service: AuthServiceDep, body: LogoutIn | None = None) -> None:
    if body is not None and body.refresh_token:
        await service.logout(refresh_token=body.refresh_token, user_id=None, session_id=None)
        return
    token = bearer_token(request)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(token) if token else None
    except InvalidTokenError:
        principal = None
    if token is None or principal is None:
        raise UnauthorizedError()
    await service.logout(
        refresh_token=None, user_id=uuid.UUID(principal.user_id), session_id=session_of(token)
    )


@router.get("/.well-known/jwks.json", summary="The public keys that verify access tokens")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    # Verifiers fetch again on an unknown key id anyway, so a short cache is safe.
    response.headers["Cache-Control"] = "public, max-age=300"
    document: dict[str, Any] = request.app.state.key_set.jwks()
    return document


@router.get("/me", summary="The caller's account", tags=["users"], responses=_refusals)
async def me(principal: CurrentPrincipal, session: SessionDep, users: UserServiceDep) -> UserOut:
    return UserOut.model_validate(await users.me(session, principal))


users_router = APIRouter(prefix="/users", tags=["users"])


@users_router.post("", status_code=201, summary="Create a user (ADMIN)")
async def create_user(
    body: UserCreate, admin: Admin, session: SessionDep, users: UserServiceDep, response: Response
) -> UserOut:
    user = await users.create(session, body, admin)
    response.headers["Location"] = f"/users/{user.id}"
    return UserOut.model_validate(user)


@users_router.get("", summary="List users, a page at a time (ADMIN)")
async def list_users(
    _admin: Admin,
    session: SessionDep,
    users: UserServiceDep,
    response: Response,
    page: Annotated[int, Query(ge=1, description="From 1")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> list[UserOut]:
    found, total = await users.page(session, page, size)
    response.headers["X-Total-Count"] = str(total)
    return [UserOut.model_validate(user) for user in found]


@users_router.get("/{user_id}", summary="One user (ADMIN)")
async def get_user(
    user_id: uuid.UUID, _admin: Admin, session: SessionDep, users: UserServiceDep
) -> UserOut:
    return UserOut.model_validate(await users.get(session, user_id))


@users_router.patch("/{user_id}", summary="Change a user's role or disable them (ADMIN)")
async def update_user(
    user_id: uuid.UUID, body: UserPatch, admin: Admin, session: SessionDep, users: UserServiceDep
) -> UserOut:
    return UserOut.model_validate(await users.update(session, user_id, body, admin))


@users_router.post("/{user_id}/password", status_code=204, summary="Set a password (ADMIN)")
async def set_password(
    user_id: uuid.UUID, body: PasswordIn, admin: Admin, session: SessionDep, users: UserServiceDep
) -> None:
    await users.set_password(session, user_id, str(body.password), admin)
