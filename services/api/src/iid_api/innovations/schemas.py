import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    HttpUrl,
    WithJsonSchema,
    computed_field,
    model_validator,
)
from pydantic.config import JsonDict

from iid_api.kit.schemas import InputModel, OutputModel
from iid_scoring import URUSAN

Stage = Literal["inisiatif", "uji_coba", "penerapan"]
Initiator = Literal["kepala_daerah", "anggota_dprd", "perangkat_daerah", "asn", "masyarakat"]
InnovationKind = Literal["digital", "non_digital"]
InnovationForm = Literal["tata_kelola_pemerintahan", "pelayanan_publik", "inovasi_daerah_lainnya"]
Theme = Literal[
    "digitalisasi_layanan",
    "penanggulangan_kemiskinan",
    "kemudahan_investasi",
    "prioritas_aktual_presiden",
    "non_tematik",
]
Classification = Literal["perangkat_daerah", "desa", "masyarakat"]
InnovationStatus = Literal["draft", "sent"]
ReviewState = Literal["draft", "submitted", "returned", "approved"]

EARLIEST_DATE = date(1990, 1, 1)


def _known_urusan(codes: list[str]) -> list[str]:
    unknown = [code for code in codes if code not in URUSAN]
    if unknown:
        raise ValueError(
            f"unknown urusan {', '.join(unknown)}; see GET /v1/vocabularies/urusan for the codes"
        )
    if len(set(codes)) != len(codes):
        raise ValueError("an urusan is listed twice")
    return codes


def _https(url: HttpUrl | None) -> HttpUrl | None:
    if url is not None and url.scheme != "https":
        raise ValueError("only https links are accepted")
    return url


UrusanCode = Annotated[str, WithJsonSchema({"type": "string", "enum": list(URUSAN)})]
UrusanList = Annotated[
    list[UrusanCode],
    Field(
        min_length=1,
        max_length=10,
        examples=[["kesehatan", "sosial"]],
        description="Government affairs; the first is the main one",
    ),
    AfterValidator(_known_urusan),
]
ReportDate = Annotated[date, Field(ge=EARLIEST_DATE)]
LongText = Annotated[str, Field(max_length=20_000)]
DocumentLink = Annotated[HttpUrl | None, AfterValidator(_https)]
Latitude = Annotated[Decimal, Field(ge=-11.5, le=6.5, max_digits=9, decimal_places=6)]
Longitude = Annotated[Decimal, Field(ge=94, le=141.5, max_digits=9, decimal_places=6)]


class _DatesInOrder:
    trial_on: date | None
    implemented_on: date | None
    developed_on: date | None

    def _check_dates(self) -> None:
        if self.trial_on and self.implemented_on and self.implemented_on < self.trial_on:
            raise ValueError("implemented_on is before trial_on")
        if self.implemented_on and self.developed_on and self.developed_on < self.implemented_on:
            raise ValueError("developed_on is before implemented_on")


# Fields every innovation always has: a patch may change them, never clear them.
REQUIRED_FIELDS = (
    "agency_id",
    "name",
    "stage",
    "initiator",
    "kind",
    "form",
    "urusan",
    "design",
    "design_internal",
    "goal",
    "benefit",
    "result",
)


INNOVATION_EXAMPLE: JsonDict = {
    "agency_id": "0b5f3c1e-8d2a-4f6b-9c7e-2a1d4e6f8b90",
    "name": "Posyandu Digital Terpadu",
    "stage": "penerapan",
    "initiator": "perangkat_daerah",
    "initiator_name": "Dinas Kesehatan Kota Parepare",
    "kind": "digital",
    "form": "pelayanan_publik",
    "theme": "digitalisasi_layanan",
    "classification": "perangkat_daerah",
    "urusan": ["kesehatan", "sosial"],
    "trial_on": "2023-09-01",
    "implemented_on": "2024-03-01",
    "design": "Kader posyandu mencatat penimbangan balita di aplikasi; puskesmas memantau ...",
    "goal": "Menurunkan angka stunting di Kota Parepare",
    "benefit": "Data gizi balita tersedia setiap hari bagi puskesmas",
    "result": "Cakupan penimbangan naik dari 71% menjadi 88%",
    "budget_document_url": "https://jdih.pareparekota.go.id/dpa-dinkes-2024.pdf",
    "latitude": "-4.013500",
    "longitude": "119.623100",
}


class InnovationPatch(InputModel, _DatesInOrder):
    """Fields to change; only those sent are changed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stage": "penerapan", "implemented_on": "2024-03-01"}]}
    )

    agency_id: uuid.UUID | None = None
    name: str | None = Field(default=None, min_length=3, max_length=300)
    stage: Stage | None = None
    initiator: Initiator | None = None
    initiator_name: str | None = Field(default=None, max_length=200)
    kind: InnovationKind | None = None
    form: InnovationForm | None = None
    theme: Theme | None = None
    classification: Classification | None = None
    urusan: UrusanList | None = None
    trial_on: ReportDate | None = None
    implemented_on: ReportDate | None = None
    developed_on: ReportDate | None = Field(
        default=None, description="Latest development: lets an older innovation in the window"
    )
    design: LongText | None = Field(default=None, description="Rancang bangun, >= 300 words")
    design_internal: bool | None = Field(
        default=None, description="keep the design text out of the public directory"
    )
    goal: LongText | None = None
    benefit: LongText | None = None
    result: LongText | None = None
    budget_document_url: DocumentLink = None
    profile_document_url: DocumentLink = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        self._check_dates()
        return self

    @model_validator(mode="after")
    def _required_stay_set(self) -> Self:
        cleared = sorted(
            name
            for name in REQUIRED_FIELDS
            if name in self.model_fields_set and getattr(self, name) is None
        )
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null (leave a field out to keep it)")
        return self


class InnovationCreate(InnovationPatch):
    model_config = ConfigDict(json_schema_extra={"examples": [INNOVATION_EXAMPLE]})

    agency_id: uuid.UUID
    name: str = Field(min_length=3, max_length=300, examples=["Posyandu Digital Terpadu"])
    stage: Stage
    initiator: Initiator
    kind: InnovationKind
    form: InnovationForm
    urusan: UrusanList
    continues: uuid.UUID | None = Field(
        default=None,
        description="public_id of this region's innovation from an earlier year, "
        "when the same innovation is reported again after further development",
    )


class InnovationOut(OutputModel):
    id: uuid.UUID = Field(description="This year's entry")
    public_id: uuid.UUID = Field(
        validation_alias="innovation_id", description="Stable across years"
    )
    period: int = Field(validation_alias="period_year")
    region_code: str
    agency_id: uuid.UUID
    name: str
    stage: Stage
    initiator: Initiator
    initiator_name: str | None
    kind: InnovationKind
    form: InnovationForm
    theme: Theme | None
    classification: Classification | None
    urusan: list[str]
    trial_on: date | None
    implemented_on: date | None
    developed_on: date | None
    design: str
    design_internal: bool
    goal: str
    benefit: str
    result: str
    budget_document_url: str | None
    profile_document_url: str | None
    latitude: Decimal | None
    longitude: Decimal | None
    status: InnovationStatus
    review_state: ReviewState = Field(
        description="the region's review before sending (POST /v1/innovations/{id}/review)"
    )
    registration_number: str | None
    sent_at: datetime | None
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def design_words(self) -> int:
        return len(self.design.split())
