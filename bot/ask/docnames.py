"""Which document a question names: by its number ("39号文", "〔2019〕3号") or its title's words.

Everything is derived from each plan's `document.number` and `document.title`; nothing is
written per document. A name counts only when it fits exactly one of the documents given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.ask.engine import MAX_QUESTION
from bot.ask.pattern import lazy
from bot.ask.text import normalize
from bot.documents.pattern import compiled

# 川残工委〔2022〕4号, 国发〔2019〕3号 (brackets as people type them; NFKC made （ ） into ( )).
_OPEN, _CLOSE = r"〔\[【(［", r"〕\]】)］"
_NUMBER = lazy(rf" ?(\S*?) ?[{_OPEN}] ?(\d{{4}}) ?[{_CLOSE}] ?第? ?0*(\d{{1,5}}) ?号 ?")
# Words around a name that only say "in that document": "在39号文里", "按综保区的文件中".
_BEFORE = r"(?:在|按照|按|根据|依据|依照|关于)?"
_AFTER = r"(?:的)?(?:里面|里边|里|当中|之中|中|上)?(?:的)?"
# What follows title words when a question names a document by them ("综保区的文件里"):
# 意见/通知/方案 and 文 only with a place word, since they are also words of measures.
_PLACE = r"(?:里面|里边|里|当中|之中|中|上)"
_TITLE_MARK = lazy(
    rf"的?文件{_PLACE}?的?|的文{_PLACE}的?|的?(?:意见|通知|方案|规划|分工){_PLACE}的?"
)
_CJK = lazy(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_BEFORE_END = lazy(rf"{_BEFORE}$")
# Title words are read at most this far back from 文件/意见….
_TITLE_WORDS = 12
# A title word's characters may stand apart in the title (综保区 in 综合保税区) by this much.
_SPREAD = 2


@dataclass(frozen=True)
class Naming:
    """A document named in a question: which (its index) and the question without the name."""

    index: int
    rest: str


def _number_patterns(number: str) -> tuple[re.Pattern[str], ...]:
    """Return the ways a question writes this document number, most specific first."""
    parsed = _NUMBER.fullmatch(re.sub(r"\s+", " ", normalize(number)))
    if parsed is None:
        return ()
    code, year, serial = (re.escape(p) for p in parsed.groups())
    code_part = rf"(?:{code} ?)?" if code else ""
    serial_part = rf"第? ?0*{serial} ?号(?:文件|文)?"
    shapes = [
        rf"{code_part}[{_OPEN}] ?{year} ?[{_CLOSE}] ?{serial_part}",  # 〔2019〕3号
        rf"{code_part}{year} ?年 ?{serial_part}",  # 2019年3号文
        rf"(?<![\d{_CLOSE}年])第? ?0*{serial} ?号(?:文件|文)",  # 3号文, 4号文件
    ]
    if code:
        shapes.insert(2, rf"{code} ?{serial_part}")  # 国发3号
    return tuple(compiled(rf"{_BEFORE}{shape}{_AFTER}") for shape in shapes)


def _spread_find(word: str, title: str) -> bool:
    """Tell whether the word's characters occur in order in the title, close together."""
    limit = len(word) * _SPREAD
    start = title.find(word[0])
    while start >= 0:
        at = start
        for char in word[1:]:
            at = title.find(char, at + 1)
            if at < 0 or at - start >= limit:
                break
        else:
            return True
        start = title.find(word[0], start + 1)
    return False


def _plain_title(title: str) -> str:
    return re.sub(r"[《》〈〉<>\s]", "", normalize(title))


class Names:
    """The names of a list of documents, to find which one a question or a choice names."""

    def __init__(self, numbers: Sequence[str], titles: Sequence[str]) -> None:
        self._numbers = [normalize(n) for n in numbers]
        self._patterns = [_number_patterns(n) for n in numbers]
        self._titles = [_plain_title(t) for t in titles]

    def _by_title(self, word: str) -> list[int]:
        return [i for i, title in enumerate(self._titles) if _spread_find(word, title)]

    def _number_span(self, text: str) -> tuple[int, int, int] | None:
        """Return (index, start, end) of the one document whose number the text writes."""
        found: list[tuple[int, int, int]] = []
        for index, patterns in enumerate(self._patterns):
            spans = [m.span() for p in patterns if (m := p.search(text))]
            if spans:
                start, end = max(spans, key=lambda s: s[1] - s[0])
                found.append((index, start, end))
        if not found:
            return None
        found.sort(key=lambda f: f[1] - f[2])  # the longest first
        if len(found) > 1 and found[0][2] - found[0][1] == found[1][2] - found[1][1]:
            return None  # "3号文" of two documents numbered 3: no one of them
        return found[0]

    def _title_span(self, text: str) -> tuple[int, int, int] | None:
        """Return (index, start, end) of "X的文件里" where X fits one document's title."""
        for mark in _TITLE_MARK.finditer(text):
            end = first = mark.start()
            while first > 0 and end - first < _TITLE_WORDS and _CJK.match(text[first - 1]):
                first -= 1
            # The longest tail of the words before the mark that fits a title decides.
            for begin in range(first, end - 1):
                fits = self._by_title(text[begin:end])
                if fits:
                    if len(fits) > 1:
                        break
                    before = _BEFORE_END.search(text, max(0, begin - 2), begin)
                    return fits[0], before.start() if before else begin, mark.end()
        return None

    def named(self, message: str) -> Naming | None:
        """Return the document a question names and the question without the name, or None."""
        # Read as much as the engine reads; runs of blanks as one.
        head, tail = message[:MAX_QUESTION], message[MAX_QUESTION:]
        text = re.sub(r"\s+", " ", normalize(head))
        # The name is cut from the message as typed when folding kept every position.
        source = head if len(text) == len(head) else text
        span = self._number_span(text) or self._title_span(text)
        if span is None:
            return None
        index, start, end = span
        rest = (source[:start] + source[end:] + tail).strip(" \t，,:：。")
        return Naming(index, rest)

    def chosen(self, text: str) -> int | None:
        """Return the index of the one document `text` names (a number, or words of a title)."""
        naming = self.named(text)
        if naming is not None and not naming.rest:
            return naming.index
        words = re.sub(r"\s+", "", normalize(text[:MAX_QUESTION]))
        exact = [i for i, n in enumerate(self._numbers) if re.sub(r"\s+", "", n) == words]
        if len(exact) == 1:
            return exact[0]
        words = _TITLE_MARK.sub("", words)
        fits = self._by_title(words) if 2 <= len(words) <= _TITLE_WORDS else []
        return fits[0] if len(fits) == 1 else None
