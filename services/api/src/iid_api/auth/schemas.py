import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from iid_api.kit.schemas import InputModel, OutputModel
from iid_store.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# Passwords are taken byte for byte: the input models' whitespace trimming must not apply.
NewPassword = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH
    ),
]
GivenPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_PASSWORD_LENGTH)
]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str = Field(description="single use: /v1/auth/refresh gives a new one")
    refresh_expires_in: int


class RefreshIn(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_3QzH8xW2mVb7LpN4sK9dF1aY6cE0jU5g"}]}
    )

    refresh_token: str = Field(min_length=16, max_length=200)


class PasswordChange(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "sandi-yang-panjang-2026",
                    "new_password": "sandi-baru-yang-lebih-panjang",
                }
            ]
        }
    )

    current_password: GivenPassword
    new_password: NewPassword = Field(
        description=f"at least {MIN_PASSWORD_LENGTH} characters; every sign-in ends"
    )


class MeOut(OutputModel):
    subject: str
    role: str
    region_code: str | None
    agency_id: uuid.UUID | None
    user_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
