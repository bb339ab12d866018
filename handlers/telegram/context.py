"""The handlers' context, with the core on it: `context.core` instead of bot_data lookups."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.core import Core
from bot.outcome import Person

_CORE = "core"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The handlers' context, with the typed core."""

    person: Person | None = None  # the update's user as the core sees them (handlers.py)

    @property
    def core(self) -> Core:
        """Return the core the application serves."""
        return core_of(self.application.bot_data)


def core_of(bot_data: dict[Any, Any]) -> Core:
    """Return the core installed on an application's bot_data (after post_init)."""
    core: Core | None = bot_data.get(_CORE)
    if core is None:
        raise RuntimeError("the core is not open")
    return core


def has_core(bot_data: dict[Any, Any]) -> bool:
    """Tell whether a core is installed (post_init may have failed before)."""
    return bot_data.get(_CORE) is not None


def attach(bot_data: dict[Any, Any], core: Core) -> None:
    """Install the core on an application's bot_data."""
    bot_data[_CORE] = core
