from pydantic import Field

from iid_api.kit.pagination import Page
from iid_api.kit.schemas import OutputModel


class Term(OutputModel):
    code: str = Field(description="the value the API takes and gives", examples=["uji_coba"])
    label: str = Field(description="how the ministry writes it", examples=["Uji Coba"])
    group: str | None = Field(
        default=None,
        description="urusan only: wajib_pelayanan_dasar, wajib_non_pelayanan_dasar, pilihan "
        "or penunjang",
        examples=["wajib_pelayanan_dasar"],
    )


class VocabularySummary(OutputModel):
    name: str = Field(examples=["stages"])
    description: str = Field(examples=["Tahapan: how far an innovation has come"])
    used_by: list[str] = Field(
        description="the fields that take its codes", examples=[["innovation.stage"]]
    )


class Vocabulary(VocabularySummary):
    terms: list[Term]


class VocabularyPage(Page[VocabularySummary]):
    """Every vocabulary (`total` of them); GET /v1/vocabularies/{name} lists its terms."""
