"""Regular expressions compiled on first use, and compiled once for many processes (and
other data derived from a document, `remembered`).

The bot's patterns are many and large (every unit's names in one alternation), and CPython's
`re` compiler is Python code: compiling the patterns a question uses took a third of the
start-up of `python -m bot ask`. A `lazy` pattern is compiled the first time one of its methods
is called (`pattern` and `flags` are known at once). `compiled` compiles as `re.compile` does;
after `keep(folder)` it also reads the compiled form (the `_sre` program: plain integers,
names and flags, in `marshal`) of patterns an earlier process compiled, and `save` writes the
ones this process compiled anew. An entry is found by the pattern's text and flags, so an
edited concept map or plan is a new pattern, compiled; the file is dropped whole when another
Python (or `re` engine) reads it, and a damaged file or entry is compiled afresh and rewritten.
"""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]  # re's engine: what `re` compiles for
import marshal
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

# The program `re` compiles depends on the interpreter (its version, the engine's MAGIC).
_STAMP = f"{sys.implementation.cache_tag} {sys.version} {_sre.MAGIC}"
FILE = "patterns.marshal"
# A file whose programs would hold more instructions than this (2 MB; a document's patterns
# take about 75,000) keeps only those the last process used: patterns of a plan since edited
# are dropped so.
MAX_CODE = 400_000
# How many values `remembered` keeps under one name (one per document of a catalog).
REMEMBERED = 8
T = TypeVar("T")

# (pattern, flags) -> (flags, code, groups - 1, groupindex, indexgroup), as `_sre.compile`
# takes them.
_Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
_lock = threading.Lock()
_folder: Path | None = None
_known: dict[tuple[str, int], _Entry] = {}
_used: dict[tuple[str, int], _Entry] = {}
_new = False


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Return `re.compile(pattern, flags)`, from the kept programs when one is there."""
    if _folder is None:
        return re.compile(pattern, flags)
    key = (pattern, int(flags))  # a RegexFlag is an int to marshal
    entry = _known.get(key)
    if entry is not None:
        try:
            made = cast(re.Pattern[str], _sre.compile(pattern, *entry))
        except (TypeError, ValueError, RuntimeError):  # a damaged entry: compiled afresh
            pass
        else:
            with _lock:  # the guard's threads compile too; `save` reads this
                _used[key] = entry
            return made
    entry = _program(pattern, flags)
    if entry is None:
        return re.compile(pattern, flags)
    global _new
    with _lock:
        _known[key] = _used[key] = entry
        _new = True
    return cast(re.Pattern[str], _sre.compile(pattern, *entry))


def _program(pattern: str, flags: int) -> _Entry | None:
    """Compile `pattern` as `re._compiler.compile` does, returning what `_sre` is given."""
    # re's internals: another Python may lay them out otherwise, and then nothing is kept.
    try:
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]
        state = parsed.state
        groupindex = dict(state.groupdict)
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        flags = int(flags | state.flags)
        return (flags, code, state.groups - 1, groupindex, tuple(indexgroup))
    except (AttributeError, TypeError):
        return None


@contextmanager
def kept(folder: Path | None) -> Iterator[None]:
    """Within: patterns and `remembered` data kept in `folder`; leaving, write what is new."""
    keep(folder)
    try:
        yield
    finally:
        save()
        keep(None)


def keep(folder: Path | None) -> None:
    """Use and keep compiled patterns in `folder` (None: compile every pattern afresh)."""
    global _folder, _new
    with _lock:
        _folder = folder
        _known.clear()
        _used.clear()
        _new = False
        if folder is None:
            return
        try:
            stamp, entries = marshal.loads((folder / FILE).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):  # none yet, or damaged
            _new = True
            return
        if stamp == _STAMP and isinstance(entries, dict):
            _known.update((k, v) for k, v in entries.items() if _well_formed(k, v))
        _new = len(_known) != (len(entries) if isinstance(entries, dict) else -1)


def _well_formed(key: object, entry: object) -> bool:
    """Tell whether a key and entry read back have the shape `compiled` gives them."""
    return (
        isinstance(key, tuple)
        and len(key) == 2
        and isinstance(entry, tuple)
        and len(entry) == 5
        and isinstance(entry[1], list)
    )


def save() -> None:
    """Write the patterns kept (with those compiled anew) to the folder; never raises."""
    global _new
    with _lock:
        if _folder is None or not _new:
            return
        size = sum(len(entry[1]) for entry in _known.values())
        entries = _known if size <= MAX_CODE else _used
        if _write(_folder / FILE, marshal.dumps((_STAMP, entries))):
            _new = False


def remembered(name: str, code: object, inputs: object, make: Callable[[], T]) -> T:
    """Return `make()`, or what it returned in an earlier process for equal `code` and `inputs`.

    Within `kept`, for data derived from a document (the concept map narrowed to it): `code`
    stands for what makes it (the source of the code, a shipped table) and `inputs` for the
    document; both, and the value, are plain data, kept in `name`.marshal beside the patterns,
    the last REMEMBERED documents' values for one `code`.
    """
    folder = _folder
    if folder is None:
        return make()
    path = folder / f"{name}.marshal"
    try:
        stamp, made_by, entries = marshal.loads(path.read_bytes())
        if stamp != _STAMP or made_by != code or not isinstance(entries, list):
            entries = []
    except (OSError, ValueError, EOFError, TypeError):  # none yet, or damaged
        entries = []
    for entry in entries:
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == inputs:
            return cast(T, entry[1])
    value = make()
    fresh = [(inputs, value), *entries[: REMEMBERED - 1]]
    try:
        data = marshal.dumps(cast(Any, (_STAMP, code, fresh)))
    except ValueError:  # not plain data: not kept
        return value
    _write(path, data)
    return value


def _write(path: Path, data: bytes) -> bool:
    """Write `data` to `path` whole, or leave it as it is; tell whether it was written."""
    import tempfile  # random and its generator: only a process that writes loads them

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under another name, then renamed: a process reading it meanwhile sees the
        # old file or the new one.
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(name, path)
        except BaseException:
            os.unlink(name)
            raise
    except OSError:  # a folder the bot may not write: it computes as before
        return False
    return True


class LazyPattern:
    """Stands for `re.compile(pattern, flags)`, compiled when first asked for anything else."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> Any:
        # Called only for what the instance does not hold yet: the compiled pattern's method
        # is kept, so that later calls cost what they cost on the pattern itself, and so is
        # the pattern, for the next name asked for.
        if name.startswith("__") or name == "_compiled":  # a protocol probed (copy, pickle)
            raise AttributeError(name)
        made = vars(self).get("_compiled")
        if made is None:
            made = self._compiled = compiled(self.pattern, self.flags)
        value = getattr(made, name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self.flags})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Return `pattern` to be compiled on first use; it is used as `re.compile` would return."""
    # Typed as the pattern it stands for: every caller uses only its attributes and methods.
    return cast(re.Pattern[str], LazyPattern(pattern, flags))
