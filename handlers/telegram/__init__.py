"""Telegram adapter (python-telegram-bot 22)."""

import os

# Opt in to timedelta durations (RetryAfter.retry_after …): PTB 22 warns on the old ints.
os.environ.setdefault("PTB_TIMEDELTA", "true")
