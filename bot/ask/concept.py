"""The concept map: how people describe things in policy areas, mapped to the terms documents
use (concepts.txt, for every document)."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from bot.ask.text import is_cjk, normalize
from bot.documents.pattern import remembered

CONCEPT_FILE = Path(__file__).with_name("concepts.txt")


def parse_concepts(text: str) -> dict[str, tuple[str, ...]]:
    """Read concepts.txt's lines "日常说法 … = 文件用语 …" into phrase -> terms.

    A phrase on several lines gets the terms of all of them; `#` starts a comment.
    """
    return _terms(list(_lines(text)))


def parse_kin(text: str) -> dict[str, tuple[str, ...]]:
    """Read concepts.txt into phrase -> the other phrases of its lines (said of one thing).

    A document may write one of them for the thing (控制文山会海 for 精文简会): another
    phrase of the line (少开会) then stands for it there.
    """
    return _kin(list(_lines(text)))


Lines = list[tuple[list[str], list[str]]]  # each line's (phrases, terms)


def _terms(lines: Lines) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = defaultdict(list)
    for phrases, terms in lines:
        for phrase in phrases:
            table[phrase] += [t for t in terms if t != phrase]
    return {p: tuple(dict.fromkeys(ts)) for p, ts in table.items() if ts}


def _kin(lines: Lines) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = defaultdict(list)
    for phrases, _ in lines:
        for phrase in phrases:
            table[phrase] += [p for p in phrases if p != phrase]
    return {p: tuple(dict.fromkeys(ps)) for p, ps in table.items() if ps}


def _lines(text: str) -> Iterator[tuple[list[str], list[str]]]:
    """Yield each line's (phrases, terms), checking its form."""
    for number, row in enumerate(normalize(text).splitlines(), 1):
        row = row.partition("#")[0].strip()
        if not row:
            continue
        said, sep, meant = row.partition("=")
        phrases, terms = said.split(), meant.split()
        if not sep or not phrases or not terms or min(map(len, phrases + terms)) < 2:
            raise ValueError(f"{CONCEPT_FILE.name}:{number}: 需要「日常说法 … = 文件用语 …」")
        yield phrases, terms


@lru_cache(maxsize=1)
def _shipped() -> Lines:
    # Read and checked once for both tables below.
    return list(_lines(CONCEPT_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def concepts() -> dict[str, tuple[str, ...]]:
    """Return the shipped concept map (read once per process)."""
    return _terms(_shipped())


@lru_cache(maxsize=1)
def kin() -> dict[str, tuple[str, ...]]:
    """Return the shipped map's phrases said of one thing (read once per process)."""
    return _kin(_shipped())


def concepts_in(written: str, words: set[str] | dict[str, float]) -> dict[str, tuple[str, ...]]:
    """Return the concept map narrowed to the terms a document writes.

    `words` holds the document's bigrams: a term whose bigrams it lacks is skipped before its
    text is searched (most of the map is about other policy areas). A phrase the document
    writes itself is its own word, not a description of another. Where it writes none of
    the terms but another phrase of the line, that phrase is the document's word for them.
    Within `pattern.kept` (`python -m bot ask`) the narrowed map of an earlier process is read
    back when the document, the map and this code are the same.
    """
    inputs = (written, words)
    return remembered("concepts", _sources(), inputs, lambda: _narrowed(written, words))


@lru_cache(maxsize=1)
def _sources() -> tuple[bytes, ...]:
    # What the narrowed map is made of besides the document: the map and the code reading it
    # (this module's, and normalize's and is_cjk's).
    code = Path(sys.modules[normalize.__module__].__file__ or "")
    return tuple(path.read_bytes() for path in (CONCEPT_FILE, Path(__file__), code))


def _narrowed(written: str, words: set[str] | dict[str, float]) -> dict[str, tuple[str, ...]]:
    present: dict[str, bool] = {}

    def writes(term: str) -> bool:
        if term not in present:
            pairs = (term[i : i + 2] for i in range(len(term) - 1))
            present[term] = all(p in words for p in pairs) and term in written
        return present[term]

    found: dict[str, tuple[str, ...]] = {}
    table, others = concepts(), kin()
    for phrase in _phrases():
        kept = tuple(filter(writes, table.get(phrase, ())))
        found_kin = () if kept else tuple(filter(writes, others.get(phrase, ())))
        # The phrase's own text is searched only where it would stand for a term (most
        # phrases have none in a document): the map's size costs each engine less.
        # Written only across two words (居家医疗's 家医), it is still a description.
        if (kept or found_kin) and (
            phrase not in written or _only_across(phrase, written, words)
        ):
            found[phrase] = kept or found_kin
    return found


@lru_cache(maxsize=1)
def _phrases() -> tuple[str, ...]:
    # The shipped map's phrases in a fixed order (read once per process).
    return tuple(sorted(concepts().keys() | kin().keys()))


def _only_across(phrase: str, written: str, words: set[str] | dict[str, float]) -> bool:
    """Tell whether a two-character phrase is written only across two words of the document.

    家医 is in 居家医疗 but not as a word: 居家 and 医疗 are each more common in the document
    (`words` gives each bigram's IDF) than 家医, wherever it stands.
    """
    if len(phrase) != 2 or not isinstance(words, dict):
        return False
    rarity = words.get(phrase, 0.0)
    at = written.find(phrase)
    while at != -1:
        before, after = written[at - 1 : at + 1] if at else "", written[at + 1 : at + 3]
        if not all(
            len(pair) == 2 and is_cjk(pair) and words.get(pair, rarity) < rarity
            for pair in (before, after)
        ):
            return False
        at = written.find(phrase, at + 1)
    return True


@lru_cache(maxsize=1)
def _subjects() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Return the map's terms of three characters or more by their first character, longest
    first, each with every word said of the same thing (the words of all its lines): read
    once per process (within `pattern.kept`, from an earlier process's while the map and
    this code are the same)."""
    return remembered("subjects", _sources(), (), _subjects_of_map)


def _subjects_of_map() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    kindred: dict[str, set[str]] = defaultdict(set)
    for phrases, terms in _shipped():
        for word in phrases + terms:
            kindred[word].update(phrases + terms)
    # Only a document's term of three characters or more names a thing (住房公积金, 学校食堂);
    # everyday phrases (厂子, 户口) and short terms (救助) are said of too many.
    named = {t for _, terms in _shipped() for t in terms if len(t) >= 3}
    starts: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for word in sorted(named, key=len, reverse=True):
        starts[word[0]].append((word, tuple(sorted(kindred[word]))))
    return {c: tuple(words) for c, words in starts.items()}


def other_subjects(text: str, writes: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Return where `text` names a thing by a term of the map that a document does not write:
    none of the words said of it (住房公积金, 公积金; 最低工资, 最低工资标准) is written there
    (`writes`).

    A question naming such a thing asks about another subject than the document's, however
    many characters it shares with a measure. The longest word at each place counts.
    """
    found = []
    table = _subjects()
    end = 0
    for i, c in enumerate(text):
        if i < end:
            continue
        for word, kindred in table.get(c, ()):
            if text.startswith(word, i):
                if not any(map(writes, kindred)):
                    found.append((i, i + len(word)))
                end = i + len(word)
                break
    return found
