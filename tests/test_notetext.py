"""Tests for bot.office.notetext: what of a typed note is stored."""

from __future__ import annotations

import pytest

from bot.office.notetext import clean_note

INVISIBLE = [
    "",
    " \t\n\u3000",
    "\u200b",
    "\ufeff",
    "\u2060",
    "\u200b\ufeff\u2060\u200c\u200d\u00ad\u180e",
    "\x00\x07\x1b\x7f\x85\x9f",
    "\r\n\r",
    "\u3164\u2800\u115f",
    "\U000e0020\U000e007f",  # tag characters alone
    "\u202e\ufffe\u2066",
    " \u200b \u3000 \ufeff ",
]


@pytest.mark.parametrize("typed", INVISIBLE)
def test_nothing_visible_is_empty(typed: str) -> None:
    assert clean_note(typed) == ""


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("\ufeff\u200b 今年完成 \u2060\u200b", "今年完成"),
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("第一行\n\n  缩进的第二行\t末尾", "第一行\n\n  缩进的第二行\t末尾"),
        ("响\x07铃\x00与\x1b[31m转义\x9b", "响铃与[31m转义"),
        ("a\u200bb", "ab"),  # an invisible format character hides nothing inside either
        ("家庭 👨\u200d👩\u200d👧", "家庭 👨\u200d👩\u200d👧"),
        # England's flag ends with tag characters: they stay.
        ("旗 \U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
         "旗 \U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"),
        ("<b>&amp;</b>", "<b>&amp;</b>"),
        # Bidi controls (an RLO reverses what follows) and noncharacters are never kept;
        # a lone surrogate (an undecodable byte) shows where it was.
        ("今年\u202e完成\u2066培训\u200f", "今年完成培训"),
        ("今年完成\ufffe培训\uffff\U0010ffff", "今年完成培训"),
        ("坏\udc80字节", "坏\ufffd字节"),
    ],
)  # fmt: skip
def test_what_is_kept(typed: str, stored: str) -> None:
    assert clean_note(typed) == stored

