from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, HttpUrl

from iid_api.kit.schemas import InputModel, OutputModel


def _https_only(url: HttpUrl) -> HttpUrl:
    if url.scheme != "https":
        raise ValueError("only https links are accepted")
    return url


class EvidenceLinkIn(InputModel):
    """A video published elsewhere (for indicators that accept `video_link`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://www.youtube.com/watch?v=posyandu-digital-parepare"}]
        }
    )

    url: Annotated[HttpUrl, AfterValidator(_https_only)] = Field(
        max_length=1000, examples=["https://www.youtube.com/watch?v=abc123"]
    )


class EvidenceOut(OutputModel):
    id: str
    aspect: Literal["spd", "sid"]
    indicator: str
    innovation_id: str | None = Field(description="the innovation entry (SID evidence only)")
    region_code: str
    period_year: int
    kind: Literal["pdf", "image", "video", "video_link"] = Field(
        description="read from the file's bytes, never from its name"
    )
    content_type: str | None
    filename: str | None = Field(description="sanitised client file name")
    size_bytes: int | None
    sha256: str | None = Field(description="content hash, also the storage key")
    url: str | None = Field(description="the link, for video_link evidence")
    download_url: str | None = Field(description="GET it for the file (supports Range)")
    created_by: str
    created_at: datetime
