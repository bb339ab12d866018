"""Text normalisation and tokens shared by the engine's indexes."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from functools import lru_cache
from itertools import chain
from pathlib import Path

import opencc

from bot.documents.pattern import lazy

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_RUN = lazy(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_RUN = lazy(rf"[{_CJK}]+")
# Toneless pinyin of the characters above, a line per reading ("an 安按暗…"), as pypinyin
# reads each one alone. Importing pypinyin loads its phrase dictionary (a tenth of a second
# at every start) for these readings; the table is read in milliseconds. After upgrading
# pypinyin, rewrite it with `python -m bot.ask.text` (a test compares the two).
SOUND_TABLE = Path(__file__).with_name("sounds.txt")
# Financial numerals (大写数字), as in 第伍项任务第贰条, read as the plain ones.
_FINANCIAL = str.maketrans("壹贰叁肆伍陆柒捌玖拾", "一二三四五六七八九十")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# Spoken and south-western words read as the plain ones a question's patterns know (啥子 is
# 什么, 好多 closing a question after a verb is 多少: "贴息能贴好多"; not 好多人, "a lot").
_SPOKEN = {
    "啥子": "什么",
    "咋个": "怎么",
    "没得": "没有",
    "晓得": "知道",
    "娃儿": "孩子",
    "巴适": "好",
}
_SPOKEN_RE = lazy(
    "|".join(
        # (没得到 is "did not get": 得 is its own word there.)
        [
            *(w for w in _SPOKEN if w != "没得"),
            "没得(?!到)",
            r"(?<=[给发补贴领报减退拿借贷奖赔交收罚斤价])好多(?=[呢啊哦嘛？?。]*$)",
        ]
    )
)


def normalize(text: str) -> str:
    """Fold width, case and Traditional characters so that any spelling compares equal."""
    converted: str = _t2s().convert(unicodedata.normalize("NFKC", text))
    return converted.lower().translate(_FINANCIAL)


def plain(text: str) -> str:
    """Read a normalised question's spoken words as plain ones (啥子 → 什么, 娃儿 → 孩子)."""
    return _SPOKEN_RE.sub(lambda m: _SPOKEN.get(m.group(0), "多少"), text)


@lru_cache(maxsize=1)
def _sounds() -> dict[str, str]:
    table: dict[str, str] = {}
    for row in SOUND_TABLE.read_text(encoding="utf-8").splitlines():
        reading, _, chars = row.partition(" ")
        table.update(dict.fromkeys(chars, reading))
    return table


def sound(text: str) -> str:
    """Toneless pinyin, character by character: what a pinyin keyboard typed (按磨 ~ 按摩)."""
    sounds = _sounds()
    # A character without a reading stands for itself, as in pypinyin.
    return " ".join(sounds.get(c, c) for c in text)


def initials(text: str) -> str:
    """The first letter of each character's pinyin: how a name is abbreviated (人社 ~ rs)."""
    return "".join(reading[0] for reading in sound(text).split())


def sound_table() -> str:
    """Return SOUND_TABLE's text as pypinyin (a development dependency) reads today."""
    from pypinyin import lazy_pinyin

    readings: dict[str, list[str]] = defaultdict(list)
    for code in chain(range(0x3400, 0x4DC0), range(0x4E00, 0xA000)):  # _CJK
        char = chr(code)
        reading = lazy_pinyin(char)[0]
        if reading != char:
            readings[reading].append(char)
    return "".join(f"{r} {''.join(chars)}\n" for r, chars in sorted(readings.items()))


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


if __name__ == "__main__":
    SOUND_TABLE.write_text(sound_table(), encoding="utf-8")
