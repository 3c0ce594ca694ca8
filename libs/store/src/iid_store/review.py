"""The region's own review of an innovation before it is sent, as rules both the API and the
worker read (the vocabularies are in `vocab`).

`review_state` is independent of `status` (draft/sent: whether the ministry has it):

    draft --submit--> submitted --approve--> approved --(send)--> status sent
      ^                 |   |                   |
      |                 |   +--return--> returned --submit--> submitted
      +----withdraw-----+----------------------+

The agency's operators submit and withdraw; the region's admins (and national admins) return,
with a note, and approve. While an entry is submitted or approved it is read-only for the
agency: what the region checked is what gets sent. An agency that must change an approved
entry withdraws it (back to draft, the region's admins are told) and submits it again, so any
change the agency makes is reviewed again. The admins' own edits keep the state: they are the
reviewers. Only approved entries may be sent unless the region switched the requirement off.
"""

from dataclasses import dataclass
from typing import Final

# States in which the agency may not change the entry (the region's admins still may).
FROZEN_FOR_AGENCY: Final = ("submitted", "approved")


@dataclass(frozen=True)
class Move:
    sources: tuple[str, ...]
    target: str
    by_reviewer: bool  # the region's admins; otherwise whoever may edit the innovation
    note_required: bool = False


MOVES: Final[dict[str, Move]] = {
    "submit": Move(("draft", "returned"), "submitted", by_reviewer=False),
    "withdraw": Move(("submitted", "approved"), "draft", by_reviewer=False),
    "return": Move(("submitted", "approved"), "returned", by_reviewer=True, note_required=True),
    "approve": Move(("submitted",), "approved", by_reviewer=True),
}


@dataclass(frozen=True)
class ReviewCounts:
    """Innovations of a region (or agency) in a period by where they stand."""

    draft: int = 0
    submitted: int = 0
    returned: int = 0
    approved: int = 0
    sent: int = 0

    @property
    def not_sent(self) -> int:
        return self.draft + self.submitted + self.returned + self.approved

    @classmethod
    def tally(cls, rows: list[tuple[str, str, int]]) -> "ReviewCounts":
        """From (status, review_state, count) rows."""
        counts = dict.fromkeys(("draft", "submitted", "returned", "approved", "sent"), 0)
        for status, state, count in rows:
            counts["sent" if status == "sent" else state] += count
        return cls(**counts)

    def summary(self) -> str:
        """ "3 submitted, waiting for review; 2 returned, waiting for the agency; ...\""""
        parts = [
            (self.submitted, "submitted, waiting for review"),
            (self.returned, "returned, waiting for the agency"),
            (self.approved, "approved, ready to send"),
            (self.draft, "in draft"),
            (self.sent, "sent"),
        ]
        said = [f"{count} {what}" for count, what in parts if count]
        return "; ".join(said) if said else "no innovation entered yet"
