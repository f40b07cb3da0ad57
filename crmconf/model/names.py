"""Names of settings items: their accepted form and their identity.

Two names are the same item when they are equal after Unicode normalisation (NFC),
leaving out zero-width and other invisible format characters, case-folding and
collapsing whitespace, because that is how a person reading the CRM's lists tells
them apart: "Bygg" and "By\u200dgg" look the same, so they are the same item.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

NAME_MAX_LENGTH = 100
"""Longest accepted name: longer than any label the CRM's admin pages show in full."""

BIDI_CONTROLS = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Characters that reorder the display of the text around them ("Trojan Source"): a
name holding one reads differently from what it is. As a regular-expression class body."""

# What shows nothing on its own, besides whitespace and controls: zero-width and format
# characters, Hangul and braille fillers, variation selectors, combining marks. (The
# JSON Schema gets this list; `_visible` below also knows the rest of Unicode.)
_INVISIBLE = (
    r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
    r"\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
)
# At least one visible character; no control characters (C0, DEL, C1 such as NEL), no
# line or paragraph separators (YAML readers fold them into spaces), no bidi controls.
NAME_PATTERN = (
    rf"^[^\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]*"
    rf"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029{_INVISIBLE}]"
    rf"[^\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]*$"
)

_SHOWS_NOTHING = frozenset(("Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"))
"""Unicode categories of characters that show nothing on their own."""
_BLANK_LETTERS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
"""Letters and symbols drawn as nothing: Hangul and Khmer fillers, the blank braille cell."""

# Left out of identity: characters that change nothing a reader sees (zero-width
# space, non-joiner and joiner, soft hyphen, combining grapheme joiner, Mongolian vowel
# separator, word joiner and invisible operators, variation selectors, zero-width
# no-break space).
_IGNORED_IN_IDENTITY = frozenset(
    "\u200b\u200c\u200d\u00ad\u034f\u180e\u2060\u2061\u2062\u2063\u2064\ufeff"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
)
_LEFT_OUT = dict.fromkeys(map(ord, _IGNORED_IN_IDENTITY))

UNSEEN = re.compile(f"[{BIDI_CONTROLS}{''.join(sorted(_IGNORED_IN_IDENTITY))}]")
"""Characters a reader of a file cannot see as themselves: bidi controls reorder the line
around them, zero-width and format characters show nothing. Files crmconf writes (export,
fmt) hold them as escapes (`"\\u202e"`), never as themselves."""


def _strip(value: str) -> str:
    # A function of our own, not str.strip: pydantic inspects a builtin's signature
    # through its text (tokenize) on every model build, 36 times per document model.
    return value.strip()


def _visible(value: str) -> str:
    """The name, normalised (NFC); refused when nothing in it shows (a lone combining
    accent, U+3164 alone) even where the pattern's list does not reach."""
    if value.isascii():
        return value  # the pattern already asked for a visible ASCII character
    value = unicodedata.normalize("NFC", value)
    for character in value:
        if (
            unicodedata.category(character) not in _SHOWS_NOTHING
            and character not in _BLANK_LETTERS
        ):
            return value
    raise PydanticCustomError("name_invisible", "nothing in the name shows")


Name = Annotated[
    str,
    Strict(),
    StringConstraints(min_length=1, max_length=NAME_MAX_LENGTH, pattern=NAME_PATTERN),
    AfterValidator(_strip),
    AfterValidator(_visible),
]
"""A setting's name as written in the configuration: surrounding whitespace trimmed,
Unicode normalised (NFC)."""


def identity(name: str) -> str:
    """The identity key of a name: NFC, invisible format characters left out, case-folded,
    whitespace collapsed."""
    if not name.isascii():
        # Planning asks for the identity of every item: each step only where needed.
        name = unicodedata.normalize("NFC", name)
        if not _IGNORED_IN_IDENTITY.isdisjoint(name):
            name = name.translate(_LEFT_OUT)
        # Case-folding can undo NFC ("ǰ"): normalise what it gives as well.
        return unicodedata.normalize("NFC", _collapsed(name).casefold())
    return _collapsed(name).casefold()


def _collapsed(name: str) -> str:
    # Most names have nothing to collapse: their only whitespace is single inner ASCII
    # spaces (every other whitespace character is unprintable). That case skips
    # splitting and joining.
    if name.isprintable() and "  " not in name and name[:1] != " " and name[-1:] != " ":
        return name
    return " ".join(name.split())


class InexactNumber(float):
    """A number whose written digits a float cannot hold, though it rounds to a whole one:
    `100.0000000000000001` reads as the float 100.0 and is still not a whole number."""

    __slots__ = ()


def as_whole(value: object) -> object:
    """15.0 as 15, as JSON Schema's "integer" takes it; anything else as it is."""
    # type(), not isinstance(): an InexactNumber is a float but not a whole number.
    return int(value) if type(value) is float and value.is_integer() else value


WHOLE = BeforeValidator(as_whole)
"""Accept 15.0 as 15, as JSON Schema's "integer" does; never 100.0000000000000001."""


def whole_number(minimum: int, maximum: int | None = None) -> Any:
    """An integer written as such (booleans and quoted numbers are refused), within bounds.

    The bounds sit beside Strict, not around the annotated alias, so that the JSON
    Schema gets `minimum`/`maximum` rather than pydantic's private `ge`/`le`.
    """
    return Annotated[int, Strict(), Field(ge=minimum, le=maximum), WHOLE]
