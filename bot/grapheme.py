"""Where a text may be cut without splitting what a reader sees as one character.

A user-perceived character (a grapheme cluster, UAX #29) can be several code points: a keycap
(1 + U+FE0F + U+20E3), a flag (two regional indicators, or 🏴 + tag characters), a family
joined by U+200D, a letter with its combining marks, CR LF. Cutting inside one shows a broken
symbol on both pages. The `regex` package implements UAX #29 (`\\X`) and follows each Unicode
release, so the rules are not copied here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import regex


@functools.cache
def _clusters() -> regex.Pattern[str]:
    """Return the pattern of one cluster (`regex` loads slowly: only when a text is cut)."""
    import regex

    return regex.compile(r"\X")


def is_boundary(text: str, index: int) -> bool:
    """Tell whether cutting `text` before `text[index]` keeps every cluster whole."""
    if index <= 0 or index >= len(text):
        return True
    # From the start: a run of flags pairs its regional indicators from its first one.
    for match in _clusters().finditer(text):
        if match.end() >= index:
            return match.end() == index
    return True


def cut_near(text: str, index: int) -> int:
    """Return the cluster boundary nearest `index` strictly inside `text`, or 0 if none is.

    A boundary at or before `index` is preferred, so that a piece cut there stays within a
    size it was measured for.
    """
    ends = [m.end() for m in _clusters().finditer(text)][:-1]
    before = [end for end in ends if end <= index]
    if before:
        return before[-1]
    return ends[0] if ends else 0
