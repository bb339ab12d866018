"""How common a word is in Chinese at large, from jieba's dictionary (word counts over a large
general corpus, shipped in the `jieba` package): 支持, 政策, 项目 are said of everything."""

from __future__ import annotations

import importlib.util
import math
import re
from functools import lru_cache
from pathlib import Path

from bot.documents.pattern import remembered

# A two-character word is common when the dictionary counts it more than e^-COMMON of all its
# counts (655 of its 114,173 two-character words, as 支持, 政策, 项目, 服务, 情况; not 扶持,
# 补贴, 残疾, 农机 or 推拿).
COMMON = 9.0
_ENTRY = re.compile(r"^(\S+) (\d+)", re.MULTILINE)


def dictionary() -> Path | None:
    """Return jieba's dictionary file, found without importing jieba; None without it."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).with_name("dict.txt")
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Return the two-character words common in any text; read once per process (within
    `pattern.kept`, from an earlier process's while the dictionary is the same)."""
    path = dictionary()
    if path is None:
        return frozenset()
    stat = path.stat()
    code = (str(path), stat.st_size, stat.st_mtime_ns, Path(__file__).read_bytes())
    return remembered("common", code, COMMON, lambda: _common(path))


def _common(path: Path) -> frozenset[str]:
    entries = [(w, int(n)) for w, n in _ENTRY.findall(path.read_text(encoding="utf-8"))]
    least = sum(n for _, n in entries) * math.exp(-COMMON)
    return frozenset(w for w, n in entries if len(w) == 2 and n > least)
