"""Errors raised by the library: a bad edition document, or a bad answer in a region's input."""

from __future__ import annotations


class EditionError(ValueError):
    """An edition document is invalid; the message starts with the place, e.g. `indicators[5]`."""


class AnswerError(ValueError):
    """An answer or innovation field cannot be scored.

    `field` is a path into the region input (`spd.5a`, `innovations[2].answers.16`), `reason`
    says why, so callers (API, CLI) can point at the offending field.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
