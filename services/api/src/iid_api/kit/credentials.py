"""Credential formats: signed access tokens (JWT, HS256), API keys and refresh tokens.

API keys and refresh tokens are 256-bit random strings, so a plain sha256 is a safe stored
form (there is nothing to brute-force, unlike a password) and allows lookup by digest.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "iid"
API_KEY_MARK = "iid_"
# visible part of a key: the mark and 8 characters, enough to tell keys apart in listings
API_KEY_PREFIX_LENGTH = len(API_KEY_MARK) + 8


class InvalidToken(Exception):
    """The access token is forged, expired, malformed or of another kind."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    family_id: uuid.UUID
    expires_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """(key, visible prefix). The key is shown once; only its digest is stored."""
    key = API_KEY_MARK + secrets.token_urlsafe(32)
    return key, key[:API_KEY_PREFIX_LENGTH]


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_MARK)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def encode_access_token(
    secret_key: str,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "typ": "access",
        "sub": str(user_id),
        "sid": str(family_id),
        "iat": issued,
        "exp": issued + lifetime,
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def decode_access_token(secret_key: str, token: str) -> AccessClaims:
    try:
        # the algorithm list is pinned: a token claiming "none" or RS256 is refused
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss"]},
        )
        if claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            family_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the access token has expired; refresh it") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken("the access token is not valid") from exc
