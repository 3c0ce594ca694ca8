"""The IID data model (SQLAlchemy 2, PostgreSQL).

Vocabularies are text columns with CHECK constraints (see `vocab.py`), because they change from
edition to edition and ENUM types are painful to migrate. There are no ORM relationships: every
query says what it loads (add any new one with `lazy="raise"`).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB, TSVECTOR, UUID
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from iid_store import vocab

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Edition(Base):
    """A methodology edition registered from the scoring library (or by an admin)."""

    __tablename__ = "editions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(SmallInteger)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    checksum: Mapped[str] = mapped_column(String(64))
    provisional: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = _created_at()


class Period(Base):
    """An assessment year. It pins one edition forever."""

    __tablename__ = "periods"
    __table_args__ = (
        CheckConstraint(one_of("status", vocab.PERIOD_STATUSES), name="status"),
        CheckConstraint(f"year BETWEEN {vocab.FIRST_YEAR} AND {vocab.LAST_YEAR}", name="year"),
        CheckConstraint("reporting_opens_on <= reporting_closes_on", name="reporting_window"),
        CheckConstraint(
            "implementation_starts_on <= implementation_ends_on", name="implementation_window"
        ),
    )

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    edition_code: Mapped[str] = mapped_column(ForeignKey("editions.code"))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    reporting_opens_on: Mapped[date] = mapped_column(Date)
    reporting_closes_on: Mapped[date] = mapped_column(Date)
    # The edition's implementation window, copied when the period is created so that it shows
    # with the period: the rule itself (Edition.in_implementation_window) reads the edition.
    implementation_starts_on: Mapped[date] = mapped_column(Date)
    implementation_ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Region(Base):
    """A province, kabupaten or kota, keyed by its Kemendagri code ("73.72")."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint(one_of("kind", vocab.REGION_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'provinsi') = (province_code IS NULL)", name="province_of_non_province"
        ),
    )

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))
    province_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    assessable: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class ClusterMembership(Base):
    __tablename__ = "cluster_memberships"
    __table_args__ = (CheckConstraint(one_of("cluster", vocab.CLUSTERS), name="cluster"),)

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code"), primary_key=True, index=True
    )


class Agency(Base):
    """An OPD, UPTD, puskesmas ... of a region: the unit that enters innovations."""

    __tablename__ = "agencies"
    __table_args__ = (CheckConstraint(one_of("kind", vocab.AGENCY_KINDS), name="kind"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Innovation(Base):
    """The stable identity of an innovation across years (other portals link to `id`)."""

    __tablename__ = "innovations"

    id: Mapped[uuid.UUID] = _uuid_pk()
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    created_at: Mapped[datetime] = _created_at()


SENT_AND_LIVE = "status = 'sent' AND deleted_at IS NULL"
FACET_COLUMNS = ("stage", "form", "kind", "initiator", "theme", "urusan", "has_evidence")
SEARCH_VECTOR = (
    "setweight(to_tsvector('indonesian'::regconfig, name), 'A')"
    " || setweight(to_tsvector('indonesian'::regconfig, goal || ' ' || benefit), 'B')"
    " || setweight(to_tsvector('indonesian'::regconfig, result), 'C')"
)


class InnovationEntry(Base):
    """One year's report of an innovation: what the region enters and then sends."""

    __tablename__ = "innovation_entries"
    __table_args__ = (
        CheckConstraint(one_of("stage", vocab.STAGES), name="stage"),
        CheckConstraint(one_of("initiator", vocab.INITIATORS), name="initiator"),
        CheckConstraint(one_of("kind", vocab.INNOVATION_KINDS), name="kind"),
        CheckConstraint(one_of("form", vocab.INNOVATION_FORMS), name="form"),
        CheckConstraint(f"theme IS NULL OR {one_of('theme', vocab.THEMES)}", name="theme"),
        CheckConstraint(
            f"classification IS NULL OR {one_of('classification', vocab.CLASSIFICATIONS)}",
            name="classification",
        ),
        CheckConstraint(one_of("status", vocab.INNOVATION_STATUSES), name="status"),
        CheckConstraint(one_of("review_state", vocab.REVIEW_STATES), name="review_state"),
        CheckConstraint("cardinality(urusan) >= 1", name="urusan_present"),
        CheckConstraint(
            "(status = 'sent') = (registration_number IS NOT NULL)", name="registration"
        ),
        CheckConstraint("implemented_on >= trial_on", name="implemented_after_trial"),
        CheckConstraint("developed_on >= implemented_on", name="developed_after_implemented"),
        # One live entry per innovation and year; soft-deleted ones do not block a re-entry.
        Index(
            "uq_innovation_entries_live",
            "innovation_id",
            "period_year",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_innovation_entries_period_region", "period_year", "region_code"),
        # the directory reads sent entries only (iid_api.directory)
        Index(
            "ix_innovation_entries_search",
            "search_vector",
            postgresql_using="gin",
            postgresql_where=text(SENT_AND_LIVE),
        ),
        Index(
            "ix_innovation_entries_name_trigram",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_where=text(SENT_AND_LIVE),
        ),
        Index(
            "ix_innovation_entries_sent",
            "sent_at",
            "id",
            postgresql_where=text(SENT_AND_LIVE),
        ),
        # every column a facet counts: facets over many innovations read the index only
        Index(
            "ix_innovation_entries_facets",
            "period_year",
            "region_code",
            postgresql_include=list(FACET_COLUMNS),
            postgresql_where=text(SENT_AND_LIVE),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    innovation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("innovations.id"), index=True)
    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(16))
    initiator: Mapped[str] = mapped_column(String(20))
    initiator_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    form: Mapped[str] = mapped_column(String(32))
    theme: Mapped[str | None] = mapped_column(String(32))
    classification: Mapped[str | None] = mapped_column(String(20))
    # urusan[0] is the main government affair; the rest are the optional others.
    urusan: Mapped[list[str]] = mapped_column(ARRAY(String(48)))
    trial_on: Mapped[date | None] = mapped_column(Date)
    implemented_on: Mapped[date | None] = mapped_column(Date)
    developed_on: Mapped[date | None] = mapped_column(Date)
    design: Mapped[str] = mapped_column(Text, server_default="")
    goal: Mapped[str] = mapped_column(Text, server_default="")
    benefit: Mapped[str] = mapped_column(Text, server_default="")
    result: Mapped[str] = mapped_column(Text, server_default="")
    budget_document_url: Mapped[str | None] = mapped_column(String(500))
    profile_document_url: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # the region keeps the design text (rancang bangun) out of the public directory
    design_internal: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # whether any answer has live evidence, set when the entry is sent (it is frozen then)
    has_evidence: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # the directory's Indonesian full text: name, then goal and benefit, then result (weights
    # A..C rank a hit in the name first); not the design, a long text the region may keep
    # internal, whose every word would match
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR, persisted=True))
    status: Mapped[str] = mapped_column(String(8), server_default="draft")
    # the region's review before sending (draft -> submitted -> returned | approved); it is
    # separate from `status`, which says whether the ministry has it (iid_store.review)
    review_state: Mapped[str] = mapped_column(String(10), server_default="draft")
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _level_check() -> CheckConstraint:
    """Levels are the edition's (0..3 in the packaged ones): the API checks them against the
    period's edition; the database only knows that none is negative."""
    return CheckConstraint("level >= 0", name="level")


class SpdAnswer(Base):
    """A region's claim for one SPD row of a period."""

    __tablename__ = "spd_answers"
    __table_args__ = (
        _level_check(),
        UniqueConstraint("period_year", "region_code", "indicator"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    indicator: Mapped[str] = mapped_column(String(8))
    # level is what scores (resolved from value on numeric rows when written: the period pins
    # the edition, so the mapping never changes); value is the statistic a numeric row was
    # answered with.
    level: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SidAnswer(Base):
    """A region's claim for one SID indicator of one innovation entry."""

    __tablename__ = "sid_answers"
    # The level rides in the unique index so that loading an entry's answers (the worker's
    # national load reads all of them) is an index-only scan.
    __table_args__ = (
        _level_check(),
        Index(
            "uq_sid_answers_entry_id_indicator",
            "entry_id",
            "indicator",
            unique=True,
            postgresql_include=["level"],
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("innovation_entries.id"))
    indicator: Mapped[str] = mapped_column(String(8))
    level: Mapped[int] = mapped_column(SmallInteger)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


_ONE_ANSWER = CheckConstraint(
    "(spd_answer_id IS NULL) <> (sid_answer_id IS NULL)", name="exactly_one_answer"
)


class Evidence(Base):
    """A piece of evidence (data dukung) attached to an answer: a stored file or a video link.

    `storage_key` is the SHA-256 of the file's content (the same file is stored once, whoever
    uploads it); `kind` and `content_type` come from the file's bytes, `filename` is sanitised.
    Detaching sets `deleted_at`; the worker removes files no live evidence refers to.
    """

    __tablename__ = "evidence"
    __table_args__ = (
        _ONE_ANSWER,
        CheckConstraint(one_of("kind", vocab.EVIDENCE_KINDS), name="kind"),
        CheckConstraint("(kind = 'video_link') = (url IS NOT NULL)", name="link_has_url"),
        CheckConstraint(
            "(kind = 'video_link') <> (storage_key IS NOT NULL AND size_bytes IS NOT NULL"
            " AND content_type IS NOT NULL AND filename IS NOT NULL)",
            name="file_is_stored",
        ),
        CheckConstraint("storage_key ~ '^[0-9a-f]{64}$'", name="storage_key_sha256"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("url LIKE 'https://%'", name="url_https"),
        Index(
            "ix_evidence_live_storage_key",
            "storage_key",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    spd_answer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("spd_answers.id"), index=True
    )
    sid_answer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sid_answers.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    storage_key: Mapped[str | None] = mapped_column(String(128))
    filename: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    url: Mapped[str | None] = mapped_column(String(1000))
    content_type: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VerificationDecision(Base):
    """A verifier's decision on one answer, stored beside the claim, never over it."""

    __tablename__ = "verification_decisions"
    __table_args__ = (
        _ONE_ANSWER,
        CheckConstraint(one_of("decision", vocab.DECISIONS), name="decision"),
        CheckConstraint(
            "(decision = 'lower') = (level IS NOT NULL)"
            " AND (level IS NULL OR level >= 0)",  # below the claim: checked by the API
            name="lowered_level",
        ),
        CheckConstraint("decision = 'accept' OR length(note) > 0", name="note_required"),
        UniqueConstraint("spd_answer_id"),
        UniqueConstraint("sid_answer_id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    spd_answer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("spd_answers.id"))
    sid_answer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sid_answers.id"))
    decision: Mapped[str] = mapped_column(String(8))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, server_default="")
    # the claim version the verifier looked at: a later claim change makes the decision stale
    answer_version: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InnovationRejection(Base):
    """A verifier's rejection of a whole innovation entry (it still counts in n)."""

    __tablename__ = "innovation_rejections"
    __table_args__ = (CheckConstraint("length(note) > 0", name="note_required"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("innovation_entries.id"), primary_key=True
    )
    note: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RegionSetting(Base):
    """A region's own settings; a region without a row has the defaults."""

    __tablename__ = "region_settings"

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    # only innovations the region's admin approved may be sent (small regions switch it off)
    review_required: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # its sent innovations are in the public directory before the period is published
    public_early: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DirectoryScore(Base):
    """An entry's points on the verified basis, copied from its region's verified scorecard by
    a trigger (migration e7a9c1d3f5b7): the directory shows and sorts by it once the period is
    published, without reading scorecard documents."""

    __tablename__ = "directory_scores"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("innovation_entries.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2))


class Recognition(Base):
    """An award an innovation won elsewhere (KemenPAN-RB's Top 40, the UN Public Service
    Awards ...), recorded by its region."""

    __tablename__ = "innovation_recognitions"
    __table_args__ = (
        CheckConstraint(f"year BETWEEN {vocab.FIRST_YEAR} AND {vocab.LAST_YEAR}", name="year"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    innovation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("innovations.id"), index=True)
    awarding_body: Mapped[str] = mapped_column(String(200))
    award: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(SmallInteger)
    rank: Mapped[str | None] = mapped_column(String(60))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()


class Replication(Base):
    """An innovation that replicates another region's (indicator 31's evidence in 2026)."""

    __tablename__ = "innovation_replications"
    __table_args__ = (CheckConstraint("innovation_id <> source_id", name="not_itself"),)

    innovation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("innovations.id"), primary_key=True)
    source_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("innovations.id"), primary_key=True, index=True
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()


class InnovationNote(Base):
    """A note in an innovation's review thread: on the innovation, one of its fields, or one of
    its answers (indicator), between the agency's operators and the region's admins. A review
    move's note is stored here too (`review_action`). Tenant data: never public."""

    __tablename__ = "innovation_notes"
    __table_args__ = (
        CheckConstraint("length(text) > 0", name="text_present"),
        CheckConstraint("indicator IS NULL OR field IS NULL", name="one_target"),
        CheckConstraint(
            f"review_action IS NULL OR {one_of('review_action', vocab.REVIEW_ACTIONS)}",
            name="review_action",
        ),
        Index("ix_innovation_notes_entry_created", "entry_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    # the order of writing, notes of one review move included (they share created_at)
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("innovation_entries.id"))
    indicator: Mapped[str | None] = mapped_column(String(8))
    field: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    review_action: Mapped[str | None] = mapped_column(String(10))
    author: Mapped[str] = mapped_column(String(200))
    author_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _created_at()


class InboxItem(Base):
    """Something a group of users must know: a region's admins or an agency's operators.

    Items are addressed to an audience, not to users, so an account created or moved later sees
    what its role is responsible for. An event of the same kind about the same thing updates
    the item (`key`): `revision` grows, and everyone who had read it sees it unread again.
    """

    __tablename__ = "inbox_items"
    __table_args__ = (
        CheckConstraint(one_of("kind", vocab.INBOX_KINDS), name="kind"),
        CheckConstraint(one_of("audience", vocab.INBOX_AUDIENCES), name="audience"),
        CheckConstraint(
            "(audience = 'agency_operator') = (agency_id IS NOT NULL)", name="audience_agency"
        ),
        Index("ix_inbox_items_region_audience", "region_code", "audience", "updated_at"),
        Index("ix_inbox_items_agency", "agency_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # the event's identity: a later event with the same key updates this item
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    audience: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    period_year: Mapped[int | None] = mapped_column(ForeignKey("periods.year"))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("innovation_entries.id"))
    summary: Mapped[str] = mapped_column(Text)
    # typed extras (days left and review counts of a deadline)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    # the revision the worker has e-mailed (or decided not to)
    mailed_revision: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InboxRead(Base):
    """A user has read an inbox item at `revision` (a later revision is unread again)."""

    __tablename__ = "inbox_reads"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    revision: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EmailMessage(Base):
    """An e-mail the worker delivers (outbox): one per recipient and item revision."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        UniqueConstraint("item_id", "revision", "address"),
        Index("ix_email_outbox_pending", "created_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbox_items.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class _Marker:
    """An outbox row's bookkeeping: a generation that grows with every change, the latest
    change, and the first change the marker has been waiting on since."""

    generation: Mapped[int] = mapped_column(BigInteger, server_default="1")
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    first_requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RecomputeMarker(_Marker, Base):
    """Outbox row: this region's scorecards must be recomputed for this period.

    Written in the same transaction as the change. `generation` grows with every change, so the
    worker clears the marker only if no newer change arrived while it computed.
    """

    __tablename__ = "recompute_markers"

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (no SQLAlchemy type of its own)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# so that reflection (alembic check) knows the type too
postgresql_base.ischema_names["xid8"] = XID8


class ChangeLogEntry(Base):
    """One committed change to a resource, written by triggers in the changing transaction
    (migration b2d4f6a8c0e2); `position` is given by the worker's sequencer once the
    transaction and every older one have finished: positions are gap-free and final, the
    order feeds, webhooks and the sync read (iid_store.changes)."""

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_unsequenced", "id", postgresql_where=text("position IS NULL")),
        Index("ix_change_log_region_position", "region_code", "position"),
        # the directory's feed pages through its own kind only
        Index(
            "ix_change_log_directory_position",
            "position",
            postgresql_where=text("kind = 'directory' AND position IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    txid: Mapped[int] = mapped_column(XID8, server_default=text("pg_current_xact_id()"))
    position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(16))
    period_year: Mapped[int | None] = mapped_column(SmallInteger)
    region_code: Mapped[str | None] = mapped_column(String(8))
    agency_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    object_id: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    sequenced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only record of every write (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    region_code: Mapped[str | None] = mapped_column(String(8), index=True)
    period_year: Mapped[int | None] = mapped_column(SmallInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


# --- scorecards and rankings (written by the worker) -----------------------------------------
BASES = ("claimed", "verified")
RUN_STATUSES = ("queued", "running", "done", "failed")


class Scorecard(Base):
    """A stored scorecard snapshot of one region, period and basis: what read paths serve."""

    __tablename__ = "scorecards"
    __table_args__ = (CheckConstraint(one_of("basis", BASES), name="basis"),)

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    basis: Mapped[str] = mapped_column(String(10), primary_key=True)
    edition_code: Mapped[str] = mapped_column(ForeignKey("editions.code"))
    index: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    rating: Mapped[str] = mapped_column(String(24))
    total_score: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    undecided_answers: Mapped[int] = mapped_column(Integer)
    # json, not jsonb: written whole, read whole, never queried inside; PostgreSQL stores json
    # as the text it was given, where jsonb would convert it (half the cost of storing a nation)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the scoring input: the same inputs always give the same snapshot
    inputs_hash: Mapped[str] = mapped_column(String(64))
    # the recompute marker generation the inputs were read at (0 when no marker was pending)
    generation: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RankingMarker(_Marker, Base):
    """Outbox row for a cluster's ranking on one basis, set when one of its scorecards on that
    basis moved (while a period is open only the claimed basis moves: the verified ranking is
    not rewritten for nothing), or when the cluster or the previous period changed (both)."""

    __tablename__ = "ranking_markers"
    __table_args__ = (CheckConstraint(one_of("basis", BASES), name="basis"),)

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(16), primary_key=True)
    basis: Mapped[str] = mapped_column(String(10), primary_key=True)


class RankingEntryRow(Base):
    """One region's place in a cluster's ranking (rewritten whole, in one transaction)."""

    __tablename__ = "rankings"
    __table_args__ = (
        CheckConstraint(one_of("basis", BASES), name="basis"),
        CheckConstraint(one_of("cluster", vocab.CLUSTERS), name="cluster"),
        Index("ix_rankings_period_cluster_basis_rank", "period_year", "cluster", "basis", "rank"),
    )

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    cluster: Mapped[str] = mapped_column(String(16), primary_key=True)
    basis: Mapped[str] = mapped_column(String(10), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    index: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    rating: Mapped[str] = mapped_column(String(24))
    total_score: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    previous_rank: Mapped[int | None] = mapped_column(Integer)
    movement: Mapped[int | None] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RecomputeRun(Base):
    """A requested full recompute of a period, with its progress."""

    __tablename__ = "recompute_runs"
    __table_args__ = (CheckConstraint(one_of("status", RUN_STATUSES), name="status"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), index=True)
    status: Mapped[str] = mapped_column(String(10), server_default="queued")
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    regions_total: Mapped[int | None] = mapped_column(Integer)
    regions_done: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


# --- access control: users, API keys, refresh token families ---------------------------------
# National roles have no region; region roles have one; only an agency operator has an agency.
def _role_scope() -> CheckConstraint:
    return CheckConstraint(
        "(role IN ('national_admin', 'verifier') AND region_code IS NULL AND agency_id IS NULL)"
        " OR (role = 'region_admin' AND region_code IS NOT NULL AND agency_id IS NULL)"
        " OR (role = 'agency_operator' AND region_code IS NOT NULL AND agency_id IS NOT NULL)"
        " OR (role = 'viewer' AND agency_id IS NULL)",
        name="role_scope",
    )


class LoginCounters:
    """Failed sign-ins, for throttling. They live in PostgreSQL (not in Redis) so that they
    survive restarts and are shared by every API process."""

    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(LoginCounters, Base):
    """A person who signs in with email and password (argon2 hash, never the password)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", vocab.ROLES), name="role"),
        _role_scope(),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), server_default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LoginThrottle(LoginCounters, Base):
    """Failed sign-ins for an email address that has no active account: the same slowdown and
    lock as an account's own counters (`User.failed_logins` ...), so that the answers do not
    tell which emails have accounts. Rows are forgotten a day after their last failure."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower"),)

    email: Mapped[str] = mapped_column(String(254), primary_key=True)


class ApiKey(Base):
    """A government system's credential: only the sha256 of the key is kept, plus a prefix
    that identifies it in listings and the audit trail."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(one_of("role", vocab.ROLES), name="role"), _role_scope())

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    agency_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agencies.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshFamily(Base):
    """One sign-in: every refresh token rotated from it belongs to this family. Revoking the
    family (logout, reuse of a spent token, deactivation) ends the sign-in and its access
    tokens, which name the family."""

    __tablename__ = "refresh_families"

    id: Mapped[uuid.UUID] = _uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(Base):
    """A refresh token (sha256 only); spent once (`used_at`), then replaced by a new one."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = _uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refresh_families.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyRecord(Base):
    """A write sent with an `Idempotency-Key`: its request fingerprint and, once it succeeded,
    the response a retry of the same request gets again (mobile clients retry on bad links)."""

    __tablename__ = "idempotency_records"

    # sha256 of the caller's credential and the key: keys are per caller
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created_at()


class ImportedResult(Base):
    """A region's published result of a year assessed before this service (imported from the
    ministry's published figures), on the scale of its year: one row per region and year."""

    __tablename__ = "imported_results"
    __table_args__ = (
        CheckConstraint(f"year BETWEEN {vocab.FIRST_YEAR} AND {vocab.LAST_YEAR}", name="year"),
        CheckConstraint(one_of("scale", vocab.SCALES), name="scale"),
        CheckConstraint(
            "score >= 0 AND (scale <> 'index_0_100' OR score <= 100)", name="score_on_scale"
        ),
        CheckConstraint(f"rating IS NULL OR {one_of('rating', vocab.RATINGS)}", name="rating"),
        CheckConstraint(f"cluster IS NULL OR {one_of('cluster', vocab.CLUSTERS)}", name="cluster"),
        CheckConstraint("rank >= 1", name="rank_positive"),
        CheckConstraint("innovations >= 0", name="innovations"),
        CheckConstraint("agencies_taking_part >= 0", name="agencies_taking_part"),
    )

    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    scale: Mapped[str] = mapped_column(String(12))
    score: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    rating: Mapped[str | None] = mapped_column(String(24))
    cluster: Mapped[str | None] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)
    innovations: Mapped[int | None] = mapped_column(Integer)
    agencies_taking_part: Mapped[int | None] = mapped_column(Integer)
    # the import (one upload, or the seed) that wrote the row
    import_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# --- rank uncertainty during verification (written by the worker) ----------------------------
class UncertaintyMarker(_Marker, Base):
    """Outbox row: the period's rank uncertainty must be simulated again. Triggers set it when
    a verification decision or a whole rejection changes while the period is verifying, and
    when a period starts verifying (migration a1c3e5f7b9d2); the nightly cron and
    `POST .../rankings/uncertainty` set it too. The worker waits for a quiet moment (debounce)."""

    __tablename__ = "uncertainty_markers"

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)


class UncertaintyRun(Base):
    """The period's latest simulation: how it was drawn and from which decisions."""

    __tablename__ = "uncertainty_runs"

    period_year: Mapped[int] = mapped_column(ForeignKey("periods.year"), primary_key=True)
    edition_code: Mapped[str] = mapped_column(ForeignKey("editions.code"))
    draws: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    # the newest decision or rejection of the period the run saw (None: none yet)
    decisions_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decisions_counted: Mapped[int] = mapped_column(Integer)
    undecided_answers: Mapped[int] = mapped_column(Integer)
    undecided_innovations: Mapped[int] = mapped_column(Integer)
    # the decision model it drew from: prior, rates and counts (GET .../decision-model's shape)
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    generation: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UncertaintyRegion(Base):
    """One region's simulated verified index: expectation, 90% interval, rating shares, and
    the rank and index each pending cell (aspect, indicator, claimed level) is worth."""

    __tablename__ = "uncertainty_regions"

    period_year: Mapped[int] = mapped_column(
        ForeignKey("uncertainty_runs.period_year", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    expected_index: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    index_low: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    index_high: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    lowest_index: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    highest_index: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON)  # rating code -> probability
    undecided_answers: Mapped[int] = mapped_column(Integer)
    undecided_innovations: Mapped[int] = mapped_column(Integer)
    # "aspect:indicator:claimed" -> [rank gain, index gain] in the region's own kind cluster
    impacts: Mapped[dict[str, Any]] = mapped_column(JSON)


class UncertaintyRank(Base):
    """One region's simulated rank in one cluster."""

    __tablename__ = "uncertainty_ranks"
    __table_args__ = (
        CheckConstraint(one_of("cluster", vocab.CLUSTERS), name="cluster"),
        CheckConstraint("rank_low <= median_rank AND median_rank <= rank_high", name="interval"),
    )

    period_year: Mapped[int] = mapped_column(
        ForeignKey("uncertainty_runs.period_year", ondelete="CASCADE"), primary_key=True
    )
    cluster: Mapped[str] = mapped_column(String(16), primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)
    expected_rank: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    median_rank: Mapped[int] = mapped_column(Integer)
    rank_low: Mapped[int] = mapped_column(Integer)
    rank_high: Mapped[int] = mapped_column(Integer)
    top_probability: Mapped[Decimal] = mapped_column(Numeric(5, 4))


# --- exports made by the worker, webhooks ------------------------------------------------------
class Export(Base):
    """A spreadsheet the worker makes (POST /v1/exports). Writing the row, `queued`, is the whole
    hand-off: a trigger notifies `iid_work` and the worker hands it to an arq job (migration
    d5f7b9c1e3a5). It keeps the requester's role and scope, so the worker reads exactly what
    the same request on the route would; the file lives in the export storage
    (`iid_store.storage.export_storage_for`) until `expires_at`."""

    __tablename__ = "exports"
    __table_args__ = (
        CheckConstraint(one_of("what", vocab.EXPORT_KINDS), name="what"),
        CheckConstraint(one_of("format", vocab.EXPORT_FORMATS), name="format"),
        CheckConstraint(one_of("status", vocab.EXPORT_STATUSES), name="status"),
        CheckConstraint(one_of("requester_role", vocab.ROLES), name="requester_role"),
        CheckConstraint("delimiter IN (',', ';')", name="delimiter"),
        Index("ix_exports_requested_by", "requested_by", "requested_at"),
        Index("ix_exports_status", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    what: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8))
    delimiter: Mapped[str] = mapped_column(String(1), server_default=",")
    # CSV of a report with several tables: which one (None: the first)
    csv_table: Mapped[str | None] = mapped_column(String(40))
    # the route's query parameters, validated when the export was requested
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the data's period and region, when it has them (the export.ready event carries them)
    period_year: Mapped[int | None] = mapped_column(SmallInteger)
    region_code: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), server_default="queued")
    requested_by: Mapped[str] = mapped_column(String(200))
    requester_role: Mapped[str] = mapped_column(String(20))
    requester_region: Mapped[str | None] = mapped_column(String(8))
    requester_agency: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    rows_done: Mapped[int] = mapped_column(Integer, server_default="0")
    storage_key: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    requested_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookSubscription(Base):
    """Where a national admin (national events, every region's) or a region admin (its region's
    events) wants events delivered. The secret signs every delivery (Standard Webhooks); the
    service pauses a subscription whose deliveries keep failing (`paused_reason` says why)."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        CheckConstraint("cardinality(event_types) >= 1", name="event_types_present"),
        CheckConstraint("(paused_at IS NULL) = (paused_reason IS NULL)", name="paused_reason"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), server_default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    # None: a national subscription
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    # `whsec_` + base64 of the key; kept to sign, shown once
    secret: Mapped[str] = mapped_column(String(100))
    # the owner's switch, and the service's pause after repeated failures
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # events of changes after this change log position (the last one when it was created)
    starts_after: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event for one subscription: the message (its id is the `webhook-id` header, the same
    on every attempt) and its attempts so far. Written by the dispatcher in the transaction
    that moves its change log cursor; delivered in `position` order per subscription and
    `ordering_key` (the region, or '' for national events)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(one_of("status", vocab.DELIVERY_STATUSES), name="status"),
        CheckConstraint(one_of("event_type", vocab.WEBHOOK_EVENTS), name="event_type"),
        UniqueConstraint("subscription_id", "position"),
        # an event that may only happen once per object (innovation.sent), once per subscription
        Index(
            "uq_webhook_deliveries_once",
            "subscription_id",
            "once_key",
            unique=True,
            postgresql_where=text("once_key IS NOT NULL"),
        ),
        Index(
            "ix_webhook_deliveries_pending",
            "subscription_id",
            "ordering_key",
            "position",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(BigInteger)
    ordering_key: Mapped[str] = mapped_column(String(8))
    event_type: Mapped[str] = mapped_column(String(32))
    once_key: Mapped[str | None] = mapped_column(String(120))
    # the exact bytes every attempt sends (JSON: type, timestamp, data)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # an attempt in flight holds the delivery until then (another worker leaves it alone)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()


class WebhookCursor(Base):
    """How far the webhook dispatcher has read the change log (one row)."""

    __tablename__ = "webhook_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
