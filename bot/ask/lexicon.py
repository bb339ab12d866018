"""The lexicon: synonyms, question scaffolding and example questions (data/lexicon.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.documents.plan import DATA_DIR, PlanError, read_yaml


@dataclass(frozen=True)
class Lexicon:
    """Words people use mapped to the document's words, plus words that carry no topic."""

    synonyms: Mapping[str, tuple[str, ...]]
    stop: tuple[str, ...]
    examples: tuple[str, ...]
    not_units: tuple[str, ...] = ()
    other_places: tuple[str, ...] = ()
    not_topics: tuple[str, ...] = ()


def parse_lexicon(path: Path, raw: Any) -> Lexicon:
    """Validate lexicon.yaml content; raise PlanError naming the bad entry."""
    if not isinstance(raw, Mapping):
        raise PlanError(f"{path}: 需要顶层映射（synonyms、stop、examples）")
    synonyms = raw.get("synonyms") or {}
    if not isinstance(synonyms, Mapping):
        raise PlanError(f"{path}: synonyms 必须是映射")
    out: dict[str, tuple[str, ...]] = {}
    for key, values in synonyms.items():
        if key == "__line__":
            continue
        if not isinstance(key, str) or not key or not isinstance(values, list):
            raise PlanError(f"{path}: 同义词「{key}」的值必须是列表")
        if not all(isinstance(v, str) and v for v in values):
            raise PlanError(f"{path}: 同义词「{key}」含空值")
        out[key] = tuple(values)
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("stop", "examples", "not_units", "other_places", "not_topics"):
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PlanError(f"{path}: {key} 必须是非空字符串的列表")
        lists[key] = tuple(value)
    return Lexicon(
        synonyms=out,
        stop=lists["stop"],
        examples=lists["examples"],
        not_units=lists["not_units"],
        other_places=lists["other_places"],
        not_topics=lists["not_topics"],
    )


# The lexicon shipped with the bot: its question scaffolding (stop) serves every document.
GENERAL = Path(__file__).resolve().parents[2] / "data" / "lexicon.yaml"


def load_lexicon(data_dir: Path = DATA_DIR) -> Lexicon:
    """Load data_dir's lexicon.yaml; an imported document's shares the general scaffolding."""
    path = data_dir / "lexicon.yaml"
    own = parse_lexicon(path, read_yaml(path)) if path.exists() else None
    if own is not None and (path.resolve() == GENERAL.resolve() or not GENERAL.exists()):
        return own
    general = parse_lexicon(GENERAL, read_yaml(GENERAL))
    # Other places are named the same whatever the document (the engine leaves out those the
    # document itself names).
    places = general.other_places
    if own is None:
        return Lexicon(synonyms={}, stop=general.stop, examples=(), other_places=places)
    return replace(
        own,
        stop=tuple(dict.fromkeys((*general.stop, *own.stop))),
        other_places=tuple(dict.fromkeys((*places, *own.other_places))),
    )
