"""Patterns compiled on first use (bot/ask/pattern.py)."""

from __future__ import annotations

import copy
import re

from bot.ask.pattern import lazy


def test_a_lazy_pattern_is_compiled_only_when_used() -> None:
    pattern = lazy(r"(\d+)号")
    assert pattern.pattern == r"(\d+)号"
    assert pattern.flags == 0
    assert "search" not in vars(pattern)  # nothing compiled yet
    assert pattern.search("第39号文") is not None
    assert "search" in vars(pattern)


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    text = "川残工委〔2022〕4号、川残工委〔2023〕12号"
    for source, flags in ((r"〔(\d{4})〕(\d+)号", 0), (r"^川", re.MULTILINE), (r"x?", 0)):
        made, compiled = lazy(source, flags), re.compile(source, flags)
        assert [m.groups() for m in made.finditer(text)] == [
            m.groups() for m in compiled.finditer(text)
        ]
        assert made.sub("#", text) == compiled.sub("#", text)
        assert made.findall(text) == compiled.findall(text)
        assert made.split(text) == compiled.split(text)
        assert made.groups == compiled.groups


def test_a_lazy_pattern_embeds_and_copies_as_its_source() -> None:
    """Built into a larger pattern (f"(?:{p.pattern})…") without being compiled."""
    part = lazy("四川|广东")
    whole = re.compile(f"(?:{part.pattern})省")
    assert whole.findall("四川省和广东省") == ["四川省", "广东省"]
    assert copy.copy(part).pattern == part.pattern
