"""How common a word is in Chinese at large (bot/ask/usage.py), from jieba's dictionary."""

from __future__ import annotations

from bot.ask.usage import common_words, dictionary


def test_the_dictionary_ships_with_jieba() -> None:
    path = dictionary()
    assert path is not None
    assert path.name == "dict.txt"


def test_words_said_of_everything_are_common() -> None:
    common = common_words()
    assert {"支持", "政策", "项目", "服务", "情况", "办法"} <= common
    # Words of a policy area are not, however often a document writes them.
    assert not {"扶持", "补贴", "残疾", "农机", "推拿", "保税"} & common
    assert 300 < len(common) < 2000
