"""Fields that take one of a few values: refused in words a user can act on.

A kind's validator raises `not_one_of` for a value outside its choices; the loader
turns it into "'x' is not one of …, did you mean …?" with the labels it also accepts.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_core import PydanticCustomError

NOT_ONE_OF = "not_one_of"
"""The pydantic error type of a value outside a field's choices."""


def not_one_of(
    given: object, allowed: Sequence[str], labels: Sequence[str] = ()
) -> PydanticCustomError:
    """The error for `given`, which is none of `allowed` (nor of the `labels` also accepted)."""
    return PydanticCustomError(
        NOT_ONE_OF,
        "not one of the allowed values",
        {"given": given, "allowed": tuple(allowed), "labels": tuple(labels)},
    )
