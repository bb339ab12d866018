"""Updates of different chats handled concurrently, each chat's in the order they came."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Eight chats at once keep about 30 answers a second going (the most Telegram accepts) even
# at a slow 250 ms round trip to Telegram, and one slow answer (an export) holds up no one.
CONCURRENT_CHATS = 8
UNLIMITED = 2**31 - 1


class PerChatProcessor(BaseUpdateProcessor):
    """Lets up to N updates run at once, but never two of the same chat.

    Within a chat order matters (a note's text must follow the choice of its measure); across
    chats it does not, and while one answer waits for Telegram the next chat is served.
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_CHATS) -> None:
        # python-telegram-bot takes its slot before do_process_update, before the update's
        # chat is known: one chat's queued updates would sit on every slot while other chats
        # wait. Its limit is left wide open; the slots here are taken in each chat's turn.
        super().__init__(UNLIMITED)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[int, asyncio.Lock] = {}
        # Updates of each chat begun and not yet done: a chat's lock is forgotten only when
        # none is left (a woken waiter has not taken the lock yet).
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers once no earlier update of its chat is running."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock = self._chats.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] = self._queued.get(chat.id, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            # Forget idle chats, so that the table does not grow with every chat ever seen.
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:
                del self._queued[chat.id], self._chats[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
