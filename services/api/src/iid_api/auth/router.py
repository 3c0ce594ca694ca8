from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from iid_api.auth import service
from iid_api.auth.schemas import MeOut, PasswordChange, RefreshIn, TokenOut
from iid_api.kit.db import SessionDep
from iid_api.kit.principal import PrincipalDep
from iid_api.kit.tenancy import ScopeDep

router = APIRouter(prefix="/v1/auth", tags=["auth"])


SIGN_IN_FORM = {"username": "operator@parepare.go.id", "password": "sandi-yang-panjang-2026"}


@router.post(
    "/token",
    response_model=TokenOut,
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Too many failed sign-ins; see `Retry-After`"},
    },
    openapi_extra={
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"example": SIGN_IN_FORM}}}
    },
)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep
) -> Any:
    """OAuth2 password flow (form fields `username` = email, `password`). Answers a short-lived
    access token and a single-use refresh token. Repeated failures slow the account down,
    then lock it for a while (429 with Retry-After)."""
    settings = request.app.state.settings
    return await service.login(session, settings, form.username, form.password)


@router.post(
    "/refresh",
    response_model=TokenOut,
    responses={401: {"description": "The refresh token is not valid, spent or expired"}},
)
async def refresh_tokens(body: RefreshIn, request: Request, session: SessionDep) -> Any:
    """Spend a refresh token for a new pair. A token spent twice revokes the whole sign-in."""
    return await service.refresh(session, request.app.state.settings, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(body: RefreshIn, session: SessionDep) -> Response:
    """End the sign-in the refresh token belongs to (its access tokens stop working too)."""
    await service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut)
async def who_am_i(principal: PrincipalDep) -> Any:
    """The caller as the API sees it: role and scope."""
    return principal


@router.put("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, session: SessionDep, scope: ScopeDep) -> Response:
    """Change your own password; every sign-in of yours ends (sign in again)."""
    user_id = scope.require_user("change a password")
    await service.change_password(session, user_id, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
