"""A switch that is on while a `with` block runs: one-shot commands run work in place."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Switch:
    """Off until `turned_on()` runs; a nested block leaves it as the outer block set it."""

    def __init__(self) -> None:
        self.on = False

    @contextlib.contextmanager
    def turned_on(self) -> Iterator[None]:
        """Keep the switch on while the block runs."""
        before, self.on = self.on, True
        try:
            yield
        finally:
            self.on = before
