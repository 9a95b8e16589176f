"""Route converters: an id in a URL is ASCII digits naming a possible row, else a 404
(docs/rules.md#accepted-input)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from lifecycle.bounds import INT_MAX


def digits_up_to(limit: int) -> str:
    """A regular expression for the whole numbers 0 … limit in ASCII digits."""
    top = str(limit)
    parts = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        if digit != "0":
            rest = len(top) - i - 1
            below = f"[0-{int(digit) - 1}]"
            parts.append(top[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    parts.append(top)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits naming a possible row, else no match (404).

    The bound is in the pattern, not only in `to_python`: Werkzeug checks a rule's
    method before converting, so a POST to /devices/<too large> would otherwise find
    the GET rule of the same path and answer 405.
    """

    regex = digits_up_to(INT_MAX)

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)
