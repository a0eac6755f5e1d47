"""The one field validator every service uses: text, choice, flag, number, time, date,
coordinate, id, list and object. Each refuses with :class:`Invalid` naming the field and a
problem code (core.kernel.texts.PROBLEMS), so both languages say the same thing.

Text never carries control characters: NUL breaks PostgreSQL text columns, and the others
(with the bidirectional overrides) can hide or reorder what a record shows. Multi-line text
keeps newlines and tabs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from core.kernel.clock import parse_aware
from core.kernel.errors import Invalid

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ID = re.compile(r"^[0-9a-f]{32}$")


def bad(name: str, code: str, **params: object) -> Invalid:
    """The error for one field."""
    return Invalid.fields({name: (code, params)})


def has_control_chars(value: str, *, multiline: bool = False) -> bool:
    """True when the text carries a control character (newlines and tabs allowed when
    multiline) or a bidirectional override."""
    allowed = "\n\r\t" if multiline else ""
    return any((unicodedata.category(ch) == "Cc" and ch not in allowed) or ch in _BIDI
               for ch in value)


def text(value: Any, name: str, *, limit: int, required: bool = True,
         multiline: bool = False) -> str | None:
    """A string of at most `limit` characters, stripped; None when optional and empty."""
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if not isinstance(value, str):
        raise bad(name, "not_text")
    if len(value) > limit:
        raise bad(name, "too_long", limit=limit)
    if has_control_chars(value, multiline=multiline):
        raise bad(name, "control_chars")
    value = value.strip()
    if not value and required:
        raise bad(name, "required")
    return value or None


def choice(value: Any, name: str, choices: Sequence[str], default: str | None = None) -> str:
    """One of the allowed codes (the default when absent and one is given)."""
    if value is None and default is not None:
        return default
    if value is None or value == "":
        raise bad(name, "required")
    if not isinstance(value, str) or value not in choices:
        raise bad(name, "not_choice", choices=", ".join(choices))
    return value


def flag(value: Any, name: str, default: bool | None = None) -> bool:
    """true or false (the default when absent and one is given)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise bad(name, "not_bool")
    return value


def number(value: Any, name: str, *, low: float, high: float, required: bool = False,
           integer: bool = False) -> float | int | None:
    """A finite number between low and high (a whole number when integer)."""
    if value is None:
        if required:
            raise bad(name, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(name, "not_integer" if integer else "not_number")
    if integer and not isinstance(value, int):
        raise bad(name, "not_integer")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(name, "not_number")
    if not low <= value <= high:
        raise bad(name, "out_of_range", low=low, high=high)
    return value if integer else float(value)


def decimal(value: Any, name: str, *, low: float, high: float) -> float | None:
    """A number from JSON or from text (a form field: "29.3573"), or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text_value = value.strip()
        if len(text_value) > 40 or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?",
                                                    text_value):
            raise bad(name, "not_number")
        value = float(text_value)
    return number(value, name, low=low, high=high)


def whole(value: Any, name: str, *, low: int, high: int, default: int | None = None) -> int:
    """A whole number in range from JSON or a query string ("50"); the default when absent."""
    if value is None or value == "":
        if default is None:
            raise bad(name, "required")
        return default
    if isinstance(value, str):
        if not re.fullmatch(r"-?\d{1,19}", value.strip()):
            raise bad(name, "not_integer")
        value = int(value.strip())
    result = number(value, name, low=low, high=high, required=True, integer=True)
    assert isinstance(result, int)
    return result


def coordinate(value: Any, name: str, bound: float) -> float | None:
    """A latitude (bound 90) or longitude (bound 180), or None."""
    result = number(value, name, low=-bound, high=bound)
    return None if result is None else float(result)


def moment(value: Any, name: str, *, required: bool = True, not_after: datetime | None = None
           ) -> datetime | None:
    """An ISO 8601 time carrying its offset; never after `not_after` when given."""
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if isinstance(value, str) and has_control_chars(value):
        raise bad(name, "not_time")
    try:
        when = parse_aware(value)
    except ValueError as exc:
        raise bad(name, "no_offset" if "offset" in str(exc) else "not_time") from None
    if not_after is not None and when > not_after:
        raise bad(name, "in_future")
    return when


def day(value: Any, name: str, *, required: bool = True) -> date | None:
    """A calendar date YYYY-MM-DD."""
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise bad(name, "not_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad(name, "not_date") from None


def ident(value: Any, name: str, *, required: bool = True) -> str | None:
    """A row id (32 lowercase hex digits)."""
    if value is None or value == "":
        if required:
            raise bad(name, "required")
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise bad(name, "not_id")
    return value


def strings(value: Any, name: str, *, item_limit: int = 500, max_items: int = 10000,
            required: bool = True) -> list[str]:
    """A list of short strings, each stripped."""
    if value is None or value == []:
        if required:
            raise bad(name, "required")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(name, "not_list")
    if len(value) > max_items:
        raise bad(name, "too_many", limit=max_items)
    for v in value:
        if len(v) > item_limit:
            raise bad(name, "too_long", limit=item_limit)
        if has_control_chars(v):
            raise bad(name, "control_chars")
    return [v.strip() for v in value]


def mapping(value: Any, name: str, *, required: bool = False) -> Mapping[str, Any]:
    """A JSON object (an empty one when optional and absent)."""
    if value is None:
        if required:
            raise bad(name, "required")
        return {}
    if not isinstance(value, Mapping):
        raise bad(name, "not_object")
    return value
