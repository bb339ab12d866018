"""Template cards of type button_interaction: WeCom's buttons, checked before sending."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_BUTTONS = 6
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


@dataclass(frozen=True)
class Button:
    """One button of a button_interaction card: its label and the key its click returns."""

    text: str
    key: str
    style: int = 1  # 1..4: WeCom's colours


def new_task_id(prefix: str) -> str:
    """Return a task_id unique to this app: the prefix and 16 random hex digits."""
    return f"{prefix}-{secrets.token_hex(8)}"


def button_card(
    title: str,
    buttons: Sequence[Button],
    *,
    task_id: str,
    desc: str = "",
    sub_title: str = "",
    fields: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Build a button_interaction template card (checked as send_card checks it)."""
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "task_id": task_id,
        "main_title": {"title": title, **({"desc": desc} if desc else {})},
        "button_list": [{"text": b.text, "key": b.key, "style": b.style} for b in buttons],
    }
    if sub_title:
        card["sub_title_text"] = sub_title
    if fields:
        card["horizontal_content_list"] = [{"keyname": k, "value": v} for k, v in fields]
    check_card(card)
    return card


def check_card(card: Mapping[str, Any]) -> None:
    """Raise ValueError unless an interactive card has a valid task_id and 1..6 unique keys."""
    task_id = card.get("task_id")
    if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
        raise ValueError("task_id 须为 1–128 个字母、数字或 _-@")
    if card.get("card_type") != "button_interaction":
        return
    buttons = card.get("button_list") or []
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ValueError(f"按钮卡片须有 1–{MAX_BUTTONS} 个按钮")
    keys = [b.get("key") for b in buttons if b.get("type", 0) == 0]
    if not all(keys) or len(set(keys)) != len(keys):
        raise ValueError("按钮的 key 须非空且互不相同")
