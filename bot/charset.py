"""Characters a text must not keep: when it is typed (names, notes) and when it is filed.

`typed` is applied where text enters the core (`display_name` to people's names); `for_file` to
every text a file is made of (.xlsx cells and sheet names, .docx paragraphs, their properties).
"""

from __future__ import annotations

import re

import regex

# Lone surrogates: what an undecodable byte (surrogateescape) or a broken "\\ud800" escape in
# a channel's JSON becomes. UTF-8 cannot encode one, so neither SQLite nor a file can hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Bidirectional controls: an RLO (U+202E) shows the rest of a name or note reversed
# ("报告\u202excod.exe" reads "报告exe.docx"), in the chat and in Word or Excel alike.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Noncharacters: never text; U+FFFE and U+FFFF are forbidden by XML, which both formats are.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_UNWANTED = re.compile(f"[{_BIDI}{_NONCHARACTERS}]")
# Format characters that show nothing (zero-width space and joiners, word joiner, invisible
# operators, BOM, soft hyphen, tag characters): they hide text in a note or make two names
# look alike. ZWJ and tags stay inside an emoji's sequence (a family, a subdivision flag).
_INVISIBLE = regex.compile("[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_CLUSTER = regex.compile(r"\X")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# XML 1.0 forbids the C0 controls but tab, line feed and carriage return; Word's vertical tab
# and form feed are its line and page breaks, so they become line breaks.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff]")
_BREAKS = re.compile("[\x0b\x0c]")


def typed(text: str) -> str:
    """Return typed text without what no one means to keep: lone surrogates become U+FFFD.

    Bidirectional controls, noncharacters and invisible format characters (zero-width space,
    tag characters …) are dropped; the rest (emoji sequences with their joiners and tags, line
    breaks) is kept as typed.
    """
    return _visible(_UNWANTED.sub("", _SURROGATE.sub("\ufffd", text)))


def _visible(text: str) -> str:
    """Drop invisible format characters, but those an emoji sequence is made of."""
    if not _INVISIBLE.search(text):
        return text
    return "".join(
        cluster if _EMOJI.match(cluster) else _INVISIBLE.sub("", cluster)
        for cluster in _CLUSTER.findall(text)
    )


def display_name(text: str) -> str:
    """Return a name as a channel gave it, on one line: `typed`, without control characters."""
    return _CONTROLS.sub("", typed(text))


def for_file(text: str) -> str:
    """Return `text` as an .xlsx or .docx can hold it: forbidden and bidi characters dropped."""
    return _UNWANTED.sub("", _XML_FORBIDDEN.sub("", _BREAKS.sub("\n", text)))
