"""Long texts cut into WeCom-sized messages (2048 UTF-8 bytes) without losing a character."""

from __future__ import annotations

from bot.grapheme import is_boundary

TEXT_LIMIT = 2048  # bytes of text / markdown content; WeCom truncates silently beyond


def split_utf8(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split `text` into pieces of at most `limit` UTF-8 bytes, after a line break if one fits.

    Nothing is dropped: the pieces joined give `text` back. A piece never ends inside a
    character, nor between a character and the joiner or mark that belongs to it.
    """
    if limit < 4:
        raise ValueError("limit must hold any one character (4 bytes)")
    sizes = [len(c.encode()) for c in text]
    remaining = sum(sizes)
    pieces: list[str] = []
    start = 0
    while remaining > limit:
        end, size, newline = start, 0, -1
        while size + sizes[end] <= limit:
            size += sizes[end]
            end += 1
            if text[end - 1] == "\n":
                newline = end
        cut = newline if newline > start else _cluster_boundary(text, start, end)
        pieces.append(text[start:cut])
        remaining -= sum(sizes[start:cut])
        start = cut
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    return pieces


def _cluster_boundary(text: str, start: int, end: int) -> int:
    """Move the cut at `end` back to the start of the cluster it falls in, if it can."""
    cut = end
    while cut > start + 1 and not is_boundary(text, cut):
        cut -= 1
    # A cluster longer than the limit has to be cut somewhere.
    return cut if is_boundary(text, cut) else end
