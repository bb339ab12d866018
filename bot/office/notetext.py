"""Cleaning a progress note's text before it is stored: what the member meant, nothing else."""

from __future__ import annotations

import re
import unicodedata

from bot.charset import typed

# C0 and C1 controls except tab and line feed (CR and NEL are line breaks, see below).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n?|\x85")
# Blank-looking letters that are neither whitespace nor format characters to Unicode.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(char: str) -> bool:
    """Tell whether a character shows nothing: whitespace, a format character, a filler."""
    return char.isspace() or char in _FILLERS or unicodedata.category(char) == "Cf"


def _end_invisible(char: str) -> bool:
    """As `_invisible`, except tag characters, which end emoji flags (🏴 + tags + U+E007F)."""
    return _invisible(char) and not "\U000e0000" <= char <= "\U000e007f"


def clean_note(text: str) -> str:
    """Return the note as it will be stored, or "" when nothing visible is left.

    Line breaks become \\n and are kept inside the text, as are tabs; other control
    characters, bidirectional controls and noncharacters are dropped (bot.charset.typed);
    blanks and invisible format characters (zero-width space, BOM, word joiner …) are
    stripped at both ends.
    """
    text = _CONTROLS.sub("", _LINE_BREAK.sub("\n", typed(text)))
    start, end = 0, len(text)
    while start < end and _end_invisible(text[start]):
        start += 1
    while end > start and _end_invisible(text[end - 1]):
        end -= 1
    text = text[start:end]
    return "" if all(_invisible(c) for c in text) else text
