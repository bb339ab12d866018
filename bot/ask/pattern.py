"""Regular expressions compiled on first use: bot/documents/pattern.py, the lowest layer, so
that the document modules compile theirs so too."""

from __future__ import annotations

from bot.documents.pattern import LazyPattern, lazy

__all__ = ["LazyPattern", "lazy"]
