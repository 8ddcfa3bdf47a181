"""Request and response bodies of the API (pydantic; unknown fields are rejected)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from segmint.algorithms import FAMILIES, check_algorithm
from segmint.model import parse_k

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=300)]
DateText = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
FeatureValue = float | int | str | bool | None


class Strict(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Roles(Strict):
    """Column roles, as detected or corrected (None: detect)."""

    kind: Literal["customers", "transactions"] | None = None
    customer: ColumnName | None = None
    time: ColumnName | None = None
    amount: ColumnName | None = None
    quantity: ColumnName | None = None
    price: ColumnName | None = None
    order: ColumnName | None = None


class FitRequest(Strict):
    """Start a fit job on an uploaded dataset."""

    dataset_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    input: Literal["auto", "customers", "transactions"] = "auto"
    roles: Roles | None = None
    k: str | int = "auto"
    algorithm: str = Field(
        default="auto",
        description="auto, kmeans, gmm, ward, genie, birch, hdbscan, dbscan or consensus",
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    exclude: list[ColumnName] = Field(default_factory=list, max_length=500)
    keep: list[ColumnName] = Field(default_factory=list, max_length=500)
    as_of: DateText | None = None
    outcome: ColumnName | None = None

    @field_validator("k")
    @classmethod
    def _k(cls, value: str | int) -> str | int:
        parse_k(value)  # a UsageError (ValueError) becomes a 422 naming k
        return value

    @field_validator("algorithm")
    @classmethod
    def _algorithm(cls, value: str) -> str:
        return check_algorithm(value)  # a UsageError (ValueError): a 422 naming algorithm

    @model_validator(mode="after")
    def _k_of_hdbscan(self) -> FitRequest:
        finds_k = self.algorithm != "auto" and not FAMILIES[self.algorithm].takes_k
        if finds_k and str(self.k).strip().lower() != "auto":
            raise ValueError(
                f"{self.algorithm} finds the number of segments itself; leave k on auto"
            )
        return self


class DataRequest(Strict):
    """Refresh or monitor with an uploaded dataset."""

    dataset_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    as_of: DateText | None = None


class RenameRequest(Strict):
    """A segment's new name and, optionally, its action."""

    name: Name
    action: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class AssignRequest(Strict):
    """One customer's features (for a transaction-log model: the derived customer features)."""

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | int
    features: dict[Annotated[str, StringConstraints(max_length=300)], FeatureValue] = Field(
        max_length=2000
    )


class AssignResponse(BaseModel):
    """One customer's segment."""

    ok: bool = True
    customer_id: str
    segment: int
    segment_name: str
    confidence: float
    probabilities: dict[str, float] | None = Field(
        default=None,
        description="p_segment_<id>: membership probability of every segment "
        "(Gaussian mixture models only)",
    )
    model_version: str
    notes: list[str]


class Health(BaseModel):
    """Liveness and what serves."""

    ok: bool = True
    status: str
    version: str
    champion: str | None
    runs: int


class ErrorBody(BaseModel):
    """The one error body."""

    ok: bool = False
    error: str
    errors: list[Any]
    status: int


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 413, 422, 429, 500)
}
