"""Text normalisation and tokens shared by the engine's indexes."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import lazy_pinyin

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Fold width, case and Traditional characters so that any spelling compares equal."""
    converted: str = _t2s().convert(unicodedata.normalize("NFKC", text))
    return converted.lower()


@lru_cache(maxsize=8192)
def _char_sound(char: str) -> str:
    return lazy_pinyin(char)[0]


def sound(text: str) -> str:
    """Toneless pinyin, character by character: what a pinyin keyboard typed (按磨 ~ 按摩)."""
    return " ".join(_char_sound(c) for c in text)


def runs(text: str) -> list[str]:
    """Split normalised text into runs of Chinese characters and of ASCII letters/digits."""
    return _RUN.findall(text)


def located_runs(text: str) -> list[tuple[int, str]]:
    """Return the runs of `runs` with the offset of each in `text`."""
    return [(m.start(), m.group()) for m in _RUN.finditer(text)]


def is_cjk(run: str) -> bool:
    """Tell whether a run is Chinese characters."""
    return bool(_CJK_RUN.fullmatch(run))


def bigrams(run: str) -> list[str]:
    """Return the overlapping character bigrams of a Chinese run (the run itself if shorter)."""
    if not is_cjk(run) or len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]
