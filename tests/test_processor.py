"""PerChatProcessor: chats concurrently, each chat's updates in order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from handlers.telegram.processor import PerChatProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, text="x")  # type: ignore[arg-type]  # no date needed
    return Update(update_id, message=message)


async def test_one_chat_in_order_other_chats_meanwhile() -> None:
    processor = PerChatProcessor(8)
    events: list[str] = []
    release = asyncio.Event()

    async def handle(name: str, wait: bool) -> None:
        events.append(f"start {name}")
        if wait:
            await release.wait()
        events.append(f"end {name}")

    async with processor:
        first = asyncio.create_task(processor.process_update(_update(1, 1), handle("a1", True)))
        second = asyncio.create_task(processor.process_update(_update(2, 1), handle("a2", False)))
        other = asyncio.create_task(processor.process_update(_update(3, 2), handle("b1", False)))
        await other  # another chat is served while chat 1 waits
        assert events == ["start a1", "start b1", "end b1"]
        release.set()
        await asyncio.gather(first, second)
    assert events[3:] == ["end a1", "start a2", "end a2"]
    assert processor._chats == {}  # idle chats are forgotten


async def test_a_busy_chat_does_not_take_every_slot() -> None:
    """A chat's queued updates wait for their turn without holding slots other chats need."""
    processor = PerChatProcessor(2)
    events: list[str] = []
    release = asyncio.Event()

    async def handle(name: str) -> None:
        events.append(f"start {name}")
        if name == "a1":
            await release.wait()

    async with processor:
        busy = [
            asyncio.create_task(processor.process_update(_update(i, 1), handle(f"a{i}")))
            for i in (1, 2, 3)
        ]
        await asyncio.wait_for(processor.process_update(_update(4, 2), handle("b4")), 1)
        assert events == ["start a1", "start b4"]
        release.set()
        await asyncio.gather(*busy)
    assert events[2:] == ["start a2", "start a3"]


async def test_at_most_n_chats_at_once() -> None:
    processor = PerChatProcessor(2)
    running: list[int] = []
    peak = 0

    async def handle(chat: int) -> None:
        nonlocal peak
        running.append(chat)
        peak = max(peak, len(running))
        await asyncio.sleep(0.01)
        running.remove(chat)

    async with processor:
        await asyncio.gather(
            *(processor.process_update(_update(i, i), handle(i)) for i in range(6))
        )
    assert peak == 2


async def test_updates_without_a_chat_run_at_once() -> None:
    processor = PerChatProcessor(2)
    done: list[int] = []

    async def handle() -> None:
        done.append(1)

    async with processor:
        await processor.process_update(Update(1), handle())
    assert done == [1]


async def test_an_update_arriving_as_the_chat_changes_hands_waits_its_turn() -> None:
    # The first update ends just as the second is woken for the chat's lock: the third,
    # arriving then, must not take a lock of its own and run beside the second.
    processor = PerChatProcessor(8)
    events: list[str] = []
    first_may_end = asyncio.Event()

    async def handle(name: str) -> None:
        events.append(f"start {name}")
        if name == "1":
            await first_may_end.wait()
        await asyncio.sleep(0)
        events.append(f"end {name}")

    async with processor:
        tasks = [asyncio.create_task(processor.process_update(_update(1, 1), handle("1")))]
        tasks.append(asyncio.create_task(processor.process_update(_update(2, 1), handle("2"))))
        await asyncio.sleep(0.01)
        first_may_end.set()
        await asyncio.sleep(0)  # the first ends; the second is woken but has not run yet
        tasks.append(asyncio.create_task(processor.process_update(_update(3, 1), handle("3"))))
        await asyncio.gather(*tasks)
    assert events == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    assert processor._chats == {}
