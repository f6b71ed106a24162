"""Response bodies: camelCase JSON, dates as RFC 3339, lists never null."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from business_index.records import MAX_UPRN


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# characters no name or note needs, that can hide or reverse text on a reviewer's screen or in the
# LLPG: control characters, and the Unicode bidirectional overrides and isolates
_HIDDEN = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def visible_text(value: str, newlines: bool) -> str:
    for ch in value:
        if (unicodedata.category(ch) == "Cc" and not (newlines and ch in "\n\r\t")) or ch in _HIDDEN:
            raise ValueError(f"contains the invisible or control character U+{ord(ch):04X}")
    return value


class RequestBody(BaseModel):
    """A request body: camelCase names only, and no field the API does not know."""
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")


class FieldError(Body):
    field: str | None
    message: str


class Errors(Body):
    errors: list[FieldError]


class Address(Body):
    uprn: int
    single_line_address: str
    postcode: str | None
    classification: str | None
    business_name: str | None
    establishment_id: str | None = Field(description="The establishment trading there under that name")


class Page(Body):
    page: int
    page_size: int
    total: int


class AddressList(Body):
    addresses: list[Address]
    pagination: Page


class NameCandidate(Body):
    name: str
    source_kind: str
    source: str | None
    date: date | None
    establishment_id: str | None


class LinkedRecord(Body):
    source: str
    record_type: str
    source_record_id: str
    name: str | None
    link_rule: str
    match_probability: float
    establishment_id: str | None
    organisation_id: str | None
    holder_name: str | None = None  # only with the review or admin scope
    account_ref: str | None = None  # only with the review or admin scope


class OrganisationRef(Body):
    organisation_id: str
    name: str | None


class EstablishmentRef(Body):
    establishment_id: str
    name: str | None
    uprn: int | None
    address: str | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool


class PremisesHistoryEntry(Body):
    """One establishment seen at a property, with its period; ``current`` marks the one trading now."""
    establishment_id: str
    name: str | None
    organisation: OrganisationRef | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool
    current: bool


class Property(Body):
    uprn: int
    parent_uprn: int | None
    single_line_address: str
    postcode: str | None
    classification: str | None
    business_name: str | None
    name_source_kind: str | None
    name_source: str | None
    name_date: date | None
    establishment_id: str | None = Field(description="The establishment the business name belongs to")
    organisation: OrganisationRef | None = Field(description="The establishment's operating organisation")
    other_candidates: list[NameCandidate]
    history: list[PremisesHistoryEntry] = Field(description="Every establishment seen here, latest first")
    linked_records: list[LinkedRecord]


class EstablishmentSummary(Body):
    establishment_id: str
    name: str | None
    score: float
    uprn: int | None
    address: str | None
    still_open: bool
    organisation_id: str | None
    record_count: int


class EstablishmentList(Body):
    establishments: list[EstablishmentSummary]
    pagination: Page


class Establishment(Body):
    establishment_id: str
    name: str | None
    name_variants: list[str]
    uprn: int | None
    address: str | None
    postcode: str | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool
    organisation: OrganisationRef | None
    records_by_source: dict[str, int]


class OrganisationSummary(Body):
    organisation_id: str
    name: str | None
    score: float
    establishment_count: int
    record_count: int


class OrganisationList(Body):
    organisations: list[OrganisationSummary]
    pagination: Page


class Organisation(Body):
    organisation_id: str
    name: str | None
    name_variants: list[str]
    establishments: list[EstablishmentRef]
    records_by_source: dict[str, int]
    first_seen: date | None
    last_seen: date | None


class Health(Body):
    status: Literal["ok", "unavailable"]
    index_version: str | None
    index_built_at: str | None
    checks: dict[str, str]


class NameSubmissionRequest(RequestBody):
    uprn: int = Field(ge=1, le=MAX_UPRN)
    business_name: str = Field(min_length=1, max_length=200, description="The name shown at the premises")
    note: str | None = Field(default=None, max_length=2000, description="Evidence for the reviewer")

    @field_validator("business_name")
    @classmethod
    def _name_visible(cls, value: str) -> str:
        return visible_text(value, newlines=False)

    @field_validator("note")
    @classmethod
    def _note_visible(cls, value: str | None) -> str | None:
        return None if value is None else visible_text(value, newlines=True)


class NameSubmission(Body):
    submission_id: str
    uprn: int
    business_name: str
    note: str | None
    status: Literal["pending", "approved", "rejected"]
    submitted_by: str
    submitted_at: datetime
    single_line_address: str | None
    name_at_submission: str | None = Field(description="The derived name the index showed when it was submitted")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class NameSubmissionList(Body):
    submissions: list[NameSubmission]
    pagination: Page


class DecisionRequest(RequestBody):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _reason_visible(cls, value: str) -> str:
        return visible_text(value, newlines=True)


class AuditEntry(Body):
    entry_id: str
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditLog(Body):
    entries: list[AuditEntry]
    pagination: Page


class ScreeningRequest(RequestBody):
    name: str = Field(min_length=2, max_length=200)
    postcode: str | None = Field(default=None, max_length=10)
    limit: int = Field(default=10, ge=1, le=50)

    @field_validator("name", "postcode")
    @classmethod
    def _visible(cls, value: str | None) -> str | None:
        return None if value is None else visible_text(value, newlines=False)


class RegisteredCompany(Body):
    company_number: str
    name: str
    status: str | None = Field(description="As Companies House has it: Active, Dissolved, Liquidation, ...")
    previous_names: list[str]


class ScreeningCandidate(Body):
    organisation_id: str
    companies: list[RegisteredCompany] = Field(default_factory=list, description=(
        "The registered company (Companies House) the organisation's records name, when the index has the register"))
    name: str | None
    score: float
    # every distinct way its records name it; with review or admin, including names of individuals
    recorded_names: list[str]
    establishments: list[EstablishmentRef]
    records_by_source: dict[str, int]


class ScreeningResult(Body):
    query: str
    candidates: list[ScreeningCandidate]


class AddressToMatch(RequestBody):
    address: str = Field(min_length=1, max_length=500, description="The address: one line, or its lines separated by commas")
    postcode: str | None = Field(default=None, max_length=10, description="When apart from the address")
    name: str | None = Field(default=None, max_length=200, description="The business there, if known")
    reference: str | None = Field(default=None, max_length=100, description="Your id for it, given back")

    @field_validator("address", "postcode", "name", "reference")
    @classmethod
    def _visible(cls, value: str | None) -> str | None:
        return None if value is None else visible_text(value, newlines=False)


class AddressMatchRequest(RequestBody):
    addresses: list[AddressToMatch] = Field(min_length=1, max_length=1000)


class AddressMatchAnswer(Body):
    reference: str | None
    uprn: int | None = Field(description="The property: null when nothing was good enough (see reason)")
    matched_address: str | None
    match_probability: float | None
    runner_up_uprn: int | None = Field(
        description="The runner-up to the match, or the best candidate that was not good enough")
    runner_up_address: str | None
    runner_up_probability: float | None
    decided_by: str | None = Field(description="The rule that placed it, with the model's level of each comparison")
    reason: str | None = Field(description="Why nothing was placed: no candidate address, best candidate below the "
                               "threshold, two candidates too close to call, building number differs, or a place "
                               "that is not a property")


class AddressMatchResult(Body):
    matched: int
    matches: list[AddressMatchAnswer]
