"""Tests for bot.charset: what typed text, names and files' texts may not keep."""

from __future__ import annotations

import pytest

from bot.charset import for_file, typed
from bot.outcome import Person


@pytest.mark.parametrize(
    ("text", "filed"),
    [
        ("a\x00b\x1fc\td\ne\r", "abc\td\ne\r"),
        ("第一行\x0b第二行\x0c第三页", "第一行\n第二行\n第三页"),  # Word's breaks
        ("今年完成\ufffe培训\uffff", "今年完成培训"),
        ("张\u202e三\u2066\u200f", "张三"),
        ("坏\ud800字", "坏字"),
        ("家庭 👨\u200d👩\u200d👧 1\ufe0f\u20e3 🇨🇳", "家庭 👨\u200d👩\u200d👧 1\ufe0f\u20e3 🇨🇳"),
    ],
)
def test_a_file_holds_only_what_xml_can_and_no_bidi_control(text: str, filed: str) -> None:
    assert for_file(text) == filed


def test_typed_text_keeps_line_breaks_and_marks_a_lone_surrogate() -> None:
    assert typed("第一行\n坏\udc80字\u202e\ufdd0") == "第一行\n坏\ufffd字"


def test_a_display_name_keeps_no_control_bidi_or_unstorable_character() -> None:
    assert Person("tg:1", "\x1b[2J张\u202e三\ufffe\n").name == "[2J张三"
    assert Person("tg:1", "李\ud800四").name == "李\ufffd四"
    assert Person("tg:1", "家庭 👨\u200d👩\u200d👧").name == "家庭 👨\u200d👩\u200d👧"


FAMILY = "👨\u200d👩\u200d👧"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
KEYCAP = "1\ufe0f\u20e3"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("进展\u200b完成", "进展完成"),
        ("完成\U000e0049\U000e0047\U000e004e培训", "完成培训"),  # hidden "IGN" in tag letters
        ("a\u200db\u2060c\ufeffd\u00ade", "abcde"),
        (f"家庭{FAMILY}旗{SCOTLAND}键{KEYCAP}", f"家庭{FAMILY}旗{SCOTLAND}键{KEYCAP}"),
        (f"{FAMILY}\u200b", FAMILY),
    ],
    ids=["zero-width-space", "tags", "joiners-bom-soft-hyphen", "emoji-kept", "after-emoji"],
)
def test_invisible_format_characters_are_dropped_but_emoji_sequences_kept(
    text: str, kept: str
) -> None:
    assert typed(text) == kept
