"""The closed vocabularies of the API, discoverable: every code a field takes, with its label
(and, for urusan, its group). The codes are the ones the database's CHECK constraints hold
(iid_store.vocab) and the edition documents use (iid_scoring)."""

from dataclasses import dataclass

from iid_api.vocabularies.schemas import Term, Vocabulary, VocabularySummary
from iid_scoring import URUSAN
from iid_store import vocab

# words written in capitals in a label
_ACRONYMS = {"opd", "uptd", "asn", "dprd", "pdf", "sid", "spd"}


@dataclass(frozen=True)
class _Source:
    description: str
    used_by: tuple[str, ...]
    codes: tuple[str, ...]


_SOURCES: dict[str, _Source] = {
    "urusan": _Source(
        "Urusan pemerintahan: the government affairs an innovation serves",
        ("innovation.urusan",),
        tuple(URUSAN),
    ),
    "forms": _Source(
        "Bentuk inovasi: the form of an innovation",
        ("innovation.form",),
        vocab.INNOVATION_FORMS,
    ),
    "kinds": _Source("Jenis inovasi: digital or not", ("innovation.kind",), vocab.INNOVATION_KINDS),
    "stages": _Source(
        "Tahapan: how far an innovation has come", ("innovation.stage",), vocab.STAGES
    ),
    "initiators": _Source(
        "Inisiator: who started an innovation", ("innovation.initiator",), vocab.INITIATORS
    ),
    "themes": _Source("Tematik: the national theme", ("innovation.theme",), vocab.THEMES),
    "classifications": _Source(
        "Klasifikasi: whose innovation it is",
        ("innovation.classification",),
        vocab.CLASSIFICATIONS,
    ),
    "innovation_statuses": _Source(
        "Whether an innovation was sent for assessment",
        ("innovation.status",),
        vocab.INNOVATION_STATUSES,
    ),
    "review_states": _Source(
        "The region's review of an unsent innovation",
        ("innovation.review_state",),
        vocab.REVIEW_STATES,
    ),
    "review_actions": _Source(
        "Moves of the region's review", ("review.action",), vocab.REVIEW_ACTIONS
    ),
    "agency_kinds": _Source(
        "Kinds of a region's agencies (perangkat daerah and units)",
        ("agency.kind",),
        vocab.AGENCY_KINDS,
    ),
    "roles": _Source(
        "Who a user or an API key acts as", ("user.role", "api_key.role"), vocab.ROLES
    ),
    "ratings": _Source(
        "Predikat: the rating an index earns",
        ("scorecard.rating", "ranking.rating"),
        vocab.RATINGS,
    ),
    "period_statuses": _Source(
        "Where an assessment year stands (draft, open, closed, verifying, published)",
        ("period.status",),
        vocab.PERIOD_STATUSES,
    ),
    "region_kinds": _Source("Kinds of region", ("region.kind",), vocab.REGION_KINDS),
    "clusters": _Source(
        "Award clusters regions are ranked in",
        ("ranking.cluster", "region.clusters"),
        vocab.CLUSTERS,
    ),
    "decisions": _Source(
        "A verifier's decision on a claimed answer", ("decision.decision",), vocab.DECISIONS
    ),
    "evidence_kinds": _Source(
        "Kinds of evidence (data dukung), read from a file's bytes",
        ("evidence.kind",),
        vocab.EVIDENCE_KINDS,
    ),
}
NAMES = tuple(_SOURCES)


def label(code: str) -> str:
    """`uji_coba` -> `Uji Coba`, `anggota_dprd` -> `Anggota DPRD`."""
    words = code.split("_")
    return " ".join(word.upper() if word in _ACRONYMS else word.capitalize() for word in words)


def _summary(name: str, source: _Source) -> VocabularySummary:
    return VocabularySummary(
        name=name, description=source.description, used_by=list(source.used_by)
    )


def summaries() -> list[VocabularySummary]:
    return [_summary(name, source) for name, source in _SOURCES.items()]


def vocabulary(name: str) -> Vocabulary:
    source = _SOURCES[name]  # the router takes known names only
    if name == "urusan":
        terms = [Term(code=u.code, label=u.name, group=u.group) for u in URUSAN.values()]
    else:
        terms = [Term(code=code, label=label(code)) for code in source.codes]
    return Vocabulary(**_summary(name, source).model_dump(), terms=terms)


_BY_CODES = {frozenset(source.codes): name for name, source in _SOURCES.items()}


def where_to_look(codes: frozenset[str]) -> str | None:
    """For a validation error listing `codes`: where a client finds them, if they are a
    vocabulary's (`see GET /v1/vocabularies/stages`)."""
    name = _BY_CODES.get(codes)
    return None if name is None else f"see GET /v1/vocabularies/{name}"
