"""Generations: a counter per document, bumped with every change written into its files.

Several instances read one data folder: the instance that takes a change (a unit change, a
synonym learnt, a document enabled or imported) writes the files and bumps the document's
generation in the transaction that records the change; the others read the counters now and
then and reload a document whose counter moved (bot/core.py `follow`).
"""

from __future__ import annotations

from bot.store.database import Connection
from bot.store.repository import Repository


async def bump(tx: Connection, doc: str) -> None:
    """Count one more change of document `doc`'s files, inside the caller's transaction."""
    await tx.execute(
        "INSERT INTO generations (doc, counter) VALUES (?, 1) "
        "ON CONFLICT (doc) DO UPDATE SET counter = generations.counter + 1",
        (doc,),
    )


class Generations(Repository):
    """The documents' generations (not per document)."""

    async def read(self) -> dict[str, int]:
        """Return every document's generation (a document never changed has none)."""
        rows = await self.db.fetch("SELECT doc, counter FROM generations")
        return {str(row["doc"]): int(row["counter"]) for row in rows}

    async def bump(self, doc: str) -> None:
        """Count one more change of document `doc`'s files (in a transaction of its own)."""
        async with self.db.transaction() as tx:
            await bump(tx, doc)
