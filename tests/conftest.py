"""Suite-wide settings."""

import os

# python-telegram-bot 22 warns (an error under filterwarnings=error) unless durations are
# timedeltas; the bot opts in to the new behaviour, and so do the tests.
os.environ.setdefault("PTB_TIMEDELTA", "true")
