"""Names of settings items: their accepted form and their identity.

Two names are the same item when they are equal after case-folding and collapsing
whitespace, because that is how a person reading the CRM's lists tells them apart.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

NAME_MAX_LENGTH = 100
"""Longest accepted name: longer than any label the CRM's admin pages show in full."""

# At least one visible character and no control characters (tabs, newlines, NUL).
# At least one visible character; no control characters (C0, DEL, C1 such as NEL) and no
# line or paragraph separators, which YAML readers fold into spaces.
NAME_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*"
    r"[^\s\x00-\x1f\x7f-\x9f\u200b-\u200d\u2028\u2029\u2060\ufeff]"
    r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
)


def _strip(value: str) -> str:
    # A function of our own, not str.strip: pydantic inspects a builtin's signature
    # through its text (tokenize) on every model build, 36 times per document model.
    return value.strip()


Name = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN),
    AfterValidator(_strip),
]
"""A setting's name as written in the configuration; surrounding whitespace is trimmed."""


def identity(name: str) -> str:
    """The identity key of a name: case-folded, whitespace collapsed."""
    # Most names have nothing to collapse: their only whitespace is single inner ASCII
    # spaces (every other whitespace character is unprintable). Planning asks for the
    # identity of every item, so that case skips splitting and joining.
    if name.isprintable() and "  " not in name and name[:1] != " " and name[-1:] != " ":
        return name.casefold()
    return " ".join(name.split()).casefold()


def _whole(value: object) -> object:
    # JSON Schema's "integer" admits 15.0; so does crmconf, to accept exactly what the schema does.
    return int(value) if isinstance(value, float) and value.is_integer() else value


WHOLE = BeforeValidator(_whole)
"""Accept 15.0 as 15, as JSON Schema's "integer" does."""


def whole_number(minimum: int, maximum: int | None = None) -> Any:
    """An integer written as such (booleans and quoted numbers are refused), within bounds.

    The bounds sit beside Strict, not around the annotated alias, so that the JSON
    Schema gets `minimum`/`maximum` rather than pydantic's private `ge`/`le`.
    """
    return Annotated[int, Strict(), Field(ge=minimum, le=maximum), WHOLE]
