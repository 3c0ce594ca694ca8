"""The decorator of the value classes the engine builds by the hundred thousand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform()
def record(cls: type[T]) -> type[T]:
    """A slotted dataclass, read-only by convention: nothing assigns to a field after
    construction (and a record's fields are not hashed)."""
    # Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
    # which made construction 5-6 times slower (docs/benchmarks.md, "Speed tricks").
    return dataclass(slots=True)(cls)
