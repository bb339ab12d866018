"""Where a text may be cut without splitting what a reader sees as one character.

A user-perceived character (a grapheme cluster, UAX #29) can be several code points: a keycap
(1 + U+FE0F + U+20E3), a flag (two regional indicators, or 🏴 + tag characters), a family
joined by U+200D, a letter with its combining marks, CR LF. Cutting inside one shows a broken
symbol on both pages. The rules here are the ones that matter for chat text; no library is
needed for them.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"


def _extends(char: str) -> bool:
    """Tell whether `char` belongs to the character before it (Extend, SpacingMark, ZWJ)."""
    code = ord(char)
    return (
        char == ZWJ
        or unicodedata.category(char) in ("Mn", "Me", "Mc")  # combining marks, keycap U+20E3
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (emoji presentation)
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def is_boundary(text: str, index: int) -> bool:
    """Tell whether cutting `text` before `text[index]` keeps every cluster whole."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if (before, after) == ("\r", "\n") or _extends(after) or before == ZWJ:
        return False
    if _regional(before) and _regional(after):
        # Flags pair regional indicators from the start of their run: cut after a pair only.
        run = index
        while run > 0 and _regional(text[run - 1]):
            run -= 1
        return (index - run) % 2 == 0
    return True


def cut_near(text: str, index: int) -> int:
    """Return the cluster boundary nearest `index` strictly inside `text`, or 0 if none is.

    A boundary at or before `index` is preferred, so that a piece cut there stays within a
    size it was measured for.
    """
    for back in range(min(index, len(text) - 1), 0, -1):
        if is_boundary(text, back):
            return back
    for ahead in range(max(index, 1) + 1, len(text)):
        if is_boundary(text, ahead):
            return ahead
    return 0
