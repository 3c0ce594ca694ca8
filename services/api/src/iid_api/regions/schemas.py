from typing import Literal

from pydantic import ConfigDict, Field

from iid_api.kit.schemas import InputModel, OutputModel

RegionKind = Literal["provinsi", "kabupaten", "kota"]
Cluster = Literal["provinsi", "kabupaten", "kota", "tertinggal", "perbatasan", "papua"]


class RegionOut(OutputModel):
    code: str = Field(examples=["73.72"])
    name: str = Field(examples=["KOTA PAREPARE"])
    kind: RegionKind
    province_code: str | None = Field(examples=["73"])
    assessable: bool = Field(description="False for the six DKI administrative units")


class ClusterAssignment(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"clusters": ["kabupaten", "tertinggal"]}]}
    )

    clusters: list[Cluster] = Field(
        max_length=6,
        examples=[["kabupaten", "tertinggal"]],
        description="The full set; must contain the cluster of the region's kind",
    )


class ClusterMembershipOut(OutputModel):
    period: int
    region: str
    clusters: list[Cluster]
