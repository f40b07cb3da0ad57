"""pydantic's validation errors in the domain's words: what is wrong, what is allowed,
a did-you-mean where a value is close, and how to fix it.

pydantic words its errors for programmers ("Input should be a valid tuple"); the
loader asks here for each, and falls back on pydantic's wording only for what no one
has put into words yet.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from crmconf.kinds.groups import MEMBER_PATTERN
from crmconf.model.choices import NOT_ONE_OF
from crmconf.model.kind import Path
from crmconf.model.names import BIDI_CONTROLS, NAME_MAX_LENGTH, NAME_PATTERN

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_RULE = (
    "a name needs a visible character; control characters, NEL, line separators and "
    "bidirectional controls (U+202E and the like) are not allowed"
)


def explained(
    detail: Any, model: type[BaseModel], written: str | None
) -> tuple[str, str | None] | None:
    """What a pydantic error detail means (after the field's dotted path) and the hint,
    or None where there are no better words than pydantic's. `written` is how YAML had
    the value written, where it was not text."""
    kind: str = detail["type"]
    given = detail.get("input")
    path: Path = tuple(detail["loc"])
    shown = written if written is not None else repr(given)
    if kind == NOT_ONE_OF or kind == "literal_error":
        if kind == NOT_ONE_OF:
            allowed = list(detail["ctx"]["allowed"])
            labels = list(detail["ctx"]["labels"])
        else:
            allowed, labels = _QUOTED.findall(detail["ctx"]["expected"]), []
        return _not_one_of(given, shown, allowed, labels)
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        side = "above the largest" if kind.startswith("less") else "below the smallest"
        limit = next(iter(detail["ctx"].values()))
        return f"{shown} is {side} allowed value, {_number(limit)}", _number_hint(model, path)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        hint = _number_hint(model, path)
        if isinstance(given, float):
            return f"{shown} is not a whole number", hint
        if isinstance(given, str) and _is_number(given):
            hint = f"write the number without quotes: {given}"
        return f"expected a whole number, but YAML read {shown} as {_described(given)}", hint
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, but YAML read {shown} as {_described(given)}", (
            "write true or false, unquoted"
        )
    if kind in ("tuple_type", "list_type") and given is not None:
        return f"expected a list, but YAML read {shown} as {_described(given)}", (
            f"write a list, even of one: [{given}]"
            if isinstance(given, str | int | float)
            else "write a list: [A, B] or one '- A' per line"
        )
    if kind == "string_too_long":
        what = "the name" if detail["ctx"]["max_length"] == NAME_MAX_LENGTH else "the text"
        return (
            f"{what} is {len(given)} characters long; at most "
            f"{detail['ctx']['max_length']} characters are allowed",
            "shorten it",
        )
    if kind == "string_too_short" or (kind == "too_short" and given == ""):
        return "the text is empty", "write it out, or remove the entry"
    if "hint" in detail.get("ctx", {}):  # a kind's own error, with its own hint
        return str(detail["msg"]), str(detail["ctx"]["hint"])
    if kind == "string_pattern_mismatch" and detail["ctx"]["pattern"] == MEMBER_PATTERN:
        return (
            f"{given!r} is not a login: logins hold no spaces",
            "write each member as its own list item: [anna@example.com, erik@example.com]",
        )
    if kind == "name_invisible" or (
        kind == "string_pattern_mismatch" and detail.get("ctx", {}).get("pattern") == NAME_PATTERN
    ):
        return _unusable_name(given)
    return None


def _not_one_of(
    given: Any, shown: str, allowed: Sequence[str], labels: Sequence[str]
) -> tuple[str, str]:
    choices = ", ".join(allowed)
    hint = f"write one of: {choices}"
    if labels:
        hint += f"; or the product's label: {', '.join(labels)}"
    if isinstance(given, str):
        by_case = {choice.casefold(): choice for choice in (*allowed, *labels)}
        close = difflib.get_close_matches(given.casefold(), list(by_case), n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {by_case[close[0]]!r}? {hint}"
    return f"{shown} is not one of the allowed values", hint


def _unusable_name(given: Any) -> tuple[str, str]:
    text = str(given)
    bidi = _BIDI.search(text)
    if bidi:
        character = bidi.group()
        return (
            f"{given!r} holds {_character(character)}, a character that reorders how the "
            "text around it is shown",
            "remove it: a name must read as what it is",
        )
    if _CONTROL.search(text) or not text.strip():
        return f"{given!r} is not a usable name", _NAME_RULE
    invisible = ", ".join(dict.fromkeys(_character(character) for character in text))
    return (
        f"{given!r} is not a usable name: nothing in it shows ({invisible})",
        _NAME_RULE,
    )


def _character(character: str) -> str:
    return f"U+{ord(character):04X} ({unicodedata.name(character, 'unnamed')})"


def _described(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "a mapping"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _field(model: type[BaseModel], path: Path) -> FieldInfo | None:
    """The field at path in the document model (list indexes skipped)."""
    current: Any = model
    found: FieldInfo | None = None
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        found = current.model_fields.get(part)
        if found is None:
            return None
        current = model_in(found.annotation)
    return found


def model_in(annotation: Any) -> Any:
    """The pydantic model inside an annotation such as ``tuple[Stage, ...] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = model_in(argument)
        if found is not None:
            return found
    return None


def _number_hint(model: type[BaseModel], path: Path) -> str | None:
    field = _field(model, path)
    if field is None:
        return None
    what = "a number" if float in _types(field.annotation) else "a whole number"
    low, high = _bounds(field)
    if low is not None and high is not None:
        return f"write {what} from {_number(low)} to {_number(high)}"
    return f"write {what} of at least {_number(low)}" if low is not None else f"write {what}"


def _types(annotation: Any) -> set[Any]:
    found = {annotation}
    for argument in get_args(annotation):
        found |= _types(argument)
    return found


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _bounds(field: FieldInfo | None) -> tuple[float | None, float | None]:
    """The smallest and largest value a numeric field allows, where it says."""
    if field is None:
        return None, None
    low = high = None
    pending: list[Any] = [*field.metadata, *get_args(field.annotation)]
    while pending:
        item = pending.pop()
        # annotated_types' Ge and Le, as pydantic keeps them
        if isinstance(getattr(item, "ge", None), int | float):
            low = item.ge
        elif isinstance(getattr(item, "le", None), int | float):
            high = item.le
        elif isinstance(item, FieldInfo):
            pending.extend(item.metadata)
        else:
            pending.extend(getattr(item, "__metadata__", ()))
            pending.extend(get_args(item) if not isinstance(item, str) else ())
    return low, high
