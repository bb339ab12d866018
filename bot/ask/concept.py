"""The concept map: how people describe things in policy areas, mapped to the terms documents
use (concepts.txt, for every document)."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from bot.ask.text import normalize

CONCEPT_FILE = Path(__file__).with_name("concepts.txt")


def parse_concepts(text: str) -> dict[str, tuple[str, ...]]:
    """Read concepts.txt's lines "日常说法 … = 文件用语 …" into phrase -> terms.

    A phrase on several lines gets the terms of all of them; `#` starts a comment.
    """
    table: dict[str, list[str]] = defaultdict(list)
    for number, row in enumerate(normalize(text).splitlines(), 1):
        row = row.partition("#")[0].strip()
        if not row:
            continue
        said, sep, meant = row.partition("=")
        phrases, terms = said.split(), meant.split()
        if not sep or not phrases or not terms or min(map(len, phrases + terms)) < 2:
            raise ValueError(f"{CONCEPT_FILE.name}:{number}: 需要「日常说法 … = 文件用语 …」")
        for phrase in phrases:
            table[phrase] += [t for t in terms if t != phrase]
    return {p: tuple(dict.fromkeys(ts)) for p, ts in table.items() if ts}


@lru_cache(maxsize=1)
def concepts() -> dict[str, tuple[str, ...]]:
    """Return the shipped concept map (read once per process)."""
    return parse_concepts(CONCEPT_FILE.read_text(encoding="utf-8"))


def concepts_in(written: str, words: set[str] | dict[str, float]) -> dict[str, tuple[str, ...]]:
    """Return the concept map narrowed to the terms a document writes.

    `words` holds the document's bigrams: a term whose bigrams it lacks is skipped before its
    text is searched (most of the map is about other policy areas). A phrase the document
    writes itself is its own word, not a description of another.
    """
    found: dict[str, tuple[str, ...]] = {}
    present: dict[str, bool] = {}
    for phrase, terms in concepts().items():
        kept = []
        for term in terms:
            if term not in present:
                pairs = (term[i : i + 2] for i in range(len(term) - 1))
                present[term] = all(p in words for p in pairs) and term in written
            if present[term]:
                kept.append(term)
        if kept and phrase not in written:
            found[phrase] = tuple(kept)
    return found
