"""Splitting long answers into WeCom's 2048-byte messages on UTF-8 boundaries."""

from __future__ import annotations

import pytest

from handlers.wecom.split import split_utf8


def _check(text: str, limit: int = 2048) -> list[str]:
    pieces = split_utf8(text, limit)
    assert "".join(pieces) == text
    assert all(0 < len(p.encode()) <= limit for p in pieces)
    return pieces


def test_short_text_is_one_piece() -> None:
    assert _check("人社厅负责什么？") == ["人社厅负责什么？"]
    assert split_utf8("") == [""]


def test_exactly_the_limit_is_one_piece() -> None:
    text = "汉" * 682 + "ab"  # 2046 + 2 bytes
    assert len(text.encode()) == 2048
    assert _check(text) == [text]


def test_cjk_is_never_cut_inside_a_character() -> None:
    text = "残疾人就业" * 1000  # 15,000 bytes, 3 per character
    pieces = _check(text)
    assert len(pieces) == 8
    assert [len(p.encode()) for p in pieces[:-1]] == [2046] * 7


def test_prefers_the_last_line_break_that_fits() -> None:
    lines = [f"{i}. " + "任务内容说明" * 10 for i in range(40)]
    text = "\n".join(lines)
    pieces = _check(text)
    assert len(pieces) > 1
    assert all(p.endswith("\n") for p in pieces[:-1])


def test_a_long_line_without_breaks_is_still_split() -> None:
    text = "短行\n" + "长" * 2000 + "\n尾"
    pieces = _check(text)
    assert pieces[0] == "短行\n"


def test_emoji_four_bytes_and_sequences_stay_whole() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"  # one emoji of 7 code points, 25 bytes
    flag_wave = "👋🏽"  # skin tone modifier
    keycap = "1\ufe0f\u20e3"
    text = ("报送完成" + family + flag_wave + keycap + "😀") * 100
    for limit in (30, 64, 100, 2048):
        for piece in _check(text, limit):
            assert not piece.startswith(("\u200d", "\ufe0f", "\u20e3", "🏽"))
            assert not piece.endswith("\u200d")


@pytest.mark.parametrize("limit", [9, 10, 11, 12, 30])
def test_flags_are_never_cut_between_their_two_letters(limit: int) -> None:
    flags = "\U0001f1e8\U0001f1f3\U0001f1ed\U0001f1f0"  # 🇨🇳🇭🇰: four regional indicators
    for lead in ("", "a", "进"):
        for piece in _check(lead + flags * 20, limit):
            body = piece.removeprefix(lead)
            # Whole pairs only: each pair starts with a first letter (C of CN, H of HK).
            assert len(body) % 2 == 0, body
            assert set(body[::2]) <= {"\U0001f1e8", "\U0001f1ed"}, body


def test_sequence_longer_than_the_limit_is_cut_rather_than_lost() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦" * 3
    _check(family, 8)


def test_mixed_ascii_and_cjk() -> None:
    text = "".join(f"第{i}项 measure {i}.{i} 由人社厅负责。" for i in range(500))
    _check(text)


@pytest.mark.parametrize("limit", [0, 3])
def test_limit_must_hold_a_character(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        split_utf8("汉字", limit)
