"""Measures of the work a reading takes that need no clock, so no bound that a busy machine breaks.

- `lines_run`: the lines of bot/ that run (Python's own work, counted exactly);
- `pattern_reads`: how many characters each regular expression is given to read;
- `nested_repeats`: the parts of a pattern that may backtrack exponentially.
Times themselves are printed by bench/bench_adversarial.py.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import pytest

from bot.ask.pattern import LazyPattern

BOT = str(Path(__file__).resolve().parent.parent / "bot")
T = TypeVar("T")


def lines_run(fn: Callable[[], T]) -> tuple[int, T]:
    """Call `fn`; return how many lines of bot/ it ran, and what it returned."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += event == "line"
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(BOT) else None

    before = sys.gettrace()
    sys.settrace(calls)
    try:
        result = fn()
    finally:
        sys.settrace(before)
    return count, result


class _Recording:
    """A compiled pattern that notes the length of every string it is given."""

    # The methods whose first argument is the string read (sub and subn: the second).
    READERS = ("search", "match", "fullmatch", "finditer", "findall", "split", "sub", "subn")

    def __init__(self, name: str, pattern: re.Pattern[str], reads: list[tuple[str, int]]):
        self._name, self._pattern, self._reads = name, pattern, reads

    def __getattr__(self, attr: str) -> Any:
        found = getattr(self._pattern, attr)
        if attr not in self.READERS:
            return found

        def reading(*args: Any, **kwargs: Any) -> Any:
            text = args[1] if attr in ("sub", "subn") else args[0]
            self._reads.append((self._name, len(text)))
            return found(*args, **kwargs)

        return reading


@contextmanager
def pattern_reads(*owners: object) -> Iterator[list[tuple[str, int]]]:
    """Record what every compiled pattern held by `owners` (modules, objects) is given.

    Yields the list it fills: (the pattern's name, the length of the string it read).
    """
    reads: list[tuple[str, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        for owner in owners:
            for name, value in list(vars(owner).items()):
                if (pattern := compiled(value)) is not None:
                    patch.setattr(owner, name, _Recording(name, pattern, reads))
        yield reads


def patterns_of(*owners: object) -> dict[str, re.Pattern[str]]:
    """Return the compiled patterns held by `owners` (modules, objects), by name."""
    return {
        f"{getattr(owner, '__name__', type(owner).__name__)}.{name}": pattern
        for owner in owners
        for name, value in vars(owner).items()
        if (pattern := compiled(value)) is not None
    }


def compiled(value: object) -> re.Pattern[str] | None:
    """Return the compiled pattern `value` is or stands for (bot/ask/pattern.py), or None."""
    if isinstance(value, LazyPattern):
        return re.compile(value.pattern, value.flags)
    return value if isinstance(value, re.Pattern) else None


def nested_repeats(pattern: re.Pattern[str]) -> list[str]:
    """Return the repeats nested in a repeat: the form that backtracks exponentially.

    `(a+)+`, `(\\d\\s*、)*`: a repeat of something that may itself match a varying length can
    split one run of text in exponentially many ways, and a failing match tries them all. A
    pattern without them does at most polynomial work in its text (and the engine gives its
    patterns at most MAX_QUESTION characters).
    """
    from re import _constants as const  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]

    repeats = {const.MAX_REPEAT, const.MIN_REPEAT, const.POSSESSIVE_REPEAT}
    found: list[str] = []

    def walk(items: Any, inside: bool) -> None:
        for op, av in items:
            if op in repeats:
                low, high, body = av
                varies = low != high
                if inside and varies:
                    found.append(f"{{{low},{high}}} inside a repeat")
                walk(body, inside or high > 1)
            elif op == const.SUBPATTERN:
                walk(av[3], inside)
            elif op == const.BRANCH:
                for branch in av[1]:
                    walk(branch, inside)
            elif op in (const.ASSERT, const.ASSERT_NOT):
                # A lookaround is atomic: once it holds, it is never tried another way.
                walk(av[1], False)
            elif op == const.ATOMIC_GROUP:
                walk(av, inside)
            elif op == const.GROUPREF_EXISTS:
                walk(av[1], inside)
                if av[2] is not None:
                    walk(av[2], inside)

    walk(parser.parse(pattern.pattern, pattern.flags), False)
    return found
