"""Regular expressions compiled on their first use, not when their module is imported.

The question modules hold many patterns; compiling all of them at import took a sixth of
the start-up of `python -m bot ask`, and one question uses a few. A `lazy` pattern is
compiled the first time one of its methods is called; `pattern` and `flags` are known at once.
"""

from __future__ import annotations

import re
from typing import Any, cast


class LazyPattern:
    """Stands for `re.compile(pattern, flags)`, compiled when first asked for anything else."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> Any:
        # Called only for what the instance does not hold yet: the compiled pattern's method
        # is kept, so that later calls cost what they cost on the pattern itself (`re` keeps
        # the compiled pattern for the next name asked for).
        if name.startswith("__"):  # a protocol probed (copy, pickle): not a pattern's method
            raise AttributeError(name)
        value = getattr(re.compile(self.pattern, self.flags), name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy({self.pattern!r}, {self.flags})"


def lazy(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """Return `pattern` to be compiled on first use; it is used as `re.compile` would return."""
    # Typed as the pattern it stands for: every caller uses only its attributes and methods.
    return cast(re.Pattern[str], LazyPattern(pattern, flags))
